"""Offscreen rendering of the jewelry (moderngl on EGL, our GLSL in shaders/), behind our own small interface."""
