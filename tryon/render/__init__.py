"""Offscreen rendering of the jewelry (pyrender through EGL), kept behind our own small interface."""

import os

# pyrender picks its GL platform at import time; headless servers have no display, so EGL unless the
# user chose otherwise (e.g. osmesa).
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
