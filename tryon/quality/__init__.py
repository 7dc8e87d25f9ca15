"""How quality is measured (DESIGN.md): stability with ground truth and lag."""
