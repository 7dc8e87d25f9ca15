"""The studio's path for product photos: a raw photo of a piece in, a catalog-ready photo out.

decode (tryon.media) -> matte (matte.py, net.py) -> clean (dust.py, tone.py) -> compose (compose.py, shadow.py)
-> checks (checks.py); `pipeline.retouch` runs them in that order. Every pixel of the piece comes from the photo.
"""
