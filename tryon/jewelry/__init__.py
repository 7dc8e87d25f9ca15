"""Jewelry: procedural earring geometry (metres), PBR materials, and the item catalog."""
