"""Jewelry: the geometry layer (geometry/), the generators per kind (earrings, rings, necklaces, wrist, design),
materials, reading the catalog, and measuring (facts), pricing and importing pieces. Metres throughout."""
