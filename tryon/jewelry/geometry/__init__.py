"""The geometry that jewelry is built from: public, tested functions on numpy arrays and trimesh meshes.

The generators (:mod:`tryon.jewelry.earrings`, ``rings``, ``necklaces``, ``wrist``) build from these and from
:mod:`tryon.jewelry.materials` only; nothing here knows a kind of jewelry. Modules, lowest first:

- ``units``: ``MM`` (metres per millimetre), the float array type, checking a size in mm;
- ``outlines``: 2D polygons and curves (circles, stadiums, an ellipse's parallel curve, resampling) and
  ear-clipping triangulation of polygons with holes;
- ``profiles``: cross-sections to sweep (round, rounded polygons and rectangles, convex offsets);
- ``solids``: primitives (capsule, ellipsoid, bead, prism, rod, extruded outlines), moving and joining meshes;
- ``sweeps``: a profile swept along a closed or open path, or lofted through changing sections;
- ``gems``: the round brilliant (and pear), the single cut, and the prong basket that holds a brilliant;
- ``relief``: a Poisson-inflated pillow over an outline;
- ``plates``: a plate cut to an outline with holes, its edges rounded, and where it hangs straight;
- ``raycast``: rays against triangles (Moller-Trumbore), exit distances, inside tests;
- ``scenes``: parts assembled into a ``trimesh.Scene`` with named nodes and PBR materials.

Units are metres unless a name says otherwise (``_mm``). A 2D path lies in the "sweep frame"'s z = 0 plane:
a cross-section's (u, v) is (along the path's outward normal, along +z).
"""
