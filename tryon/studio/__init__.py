"""Product tools for the brands: building the catalog (models, thumbnails, prices), turntables and product
videos, comparison galleries. Nothing in the frame's path imports them."""
