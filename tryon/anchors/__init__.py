"""Pure functions from landmarks to anchor poses (metres, camera frame) and occluder geometry."""
