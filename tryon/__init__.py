"""Real-time AR jewelry try-on: camera frame in, the same frame with true-to-scale 3D jewelry out."""

__version__ = "0.1.0"
