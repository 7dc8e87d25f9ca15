"""Putting the rendered layer onto the camera frame."""
