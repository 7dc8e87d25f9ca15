"""One direction through the layers: a module imports only from its own layer or the ones below it.

The layers, lowest first (a module's layer is that of the longest prefix listed):
  foundation   errors, types, config, body constants, physics, media I/O, filter primitives
  tracking     MediaPipe wrappers
  anchors      landmarks -> poses and occluders (pure functions)
  jewelry      the catalog as read, materials, the geometry layer and the generators
  filters      per-site smoothing through time (ears, neck, hands)
  render       the renderer and the scene
  compositor   the camera's look on the render (and its training)
  retouch      product photos to catalog photos: matte, clean, compose, checks (and the matting net's training)
  pipeline     one frame's path
  apps         the server, the product tools (studio), the developer tools (tools), the CLI, building the catalog
Every import of a `tryon` module counts, at module level or inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "tryon"
LAYERS = [
    ("foundation", ["tryon.errors", "tryon.types", "tryon.config", "tryon.body", "tryon.physics", "tryon.media",
                    "tryon.filters.one_euro", "tryon.filters.hold", "tryon.filters"]),
    ("tracking", ["tryon.tracking"]),
    ("anchors", ["tryon.anchors"]),
    ("jewelry", ["tryon.jewelry"]),
    ("filters", ["tryon.filters.ears", "tryon.filters.neck", "tryon.filters.hands"]),
    ("render", ["tryon.render"]),
    ("compositor", ["tryon.compositor"]),
    ("retouch", ["tryon.retouch"]),
    ("pipeline", ["tryon.pipeline"]),
    ("apps", ["tryon.server", "tryon.studio", "tryon.tools", "tryon.quality", "tryon.cli", "tryon.kiosk",
              "tryon.stylist"]),
]


def layer_of(module: str) -> int:
    if module == "tryon":
        return 0
    best, rank = -1, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    assert rank is not None, f"{module} is in no layer: add it to LAYERS"
    return rank


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every tryon module `path` imports, anywhere in it (`from tryon.x import y` counts y when it is a module)."""
    tree = ast.parse(path.read_text(), str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("tryon")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tryon") and node.level == 0:
            found.add(node.module)
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                if (ROOT.parent / Path(*sub.split("."))).with_suffix(".py").exists() or \
                        (ROOT.parent / Path(*sub.split("."))).is_dir():
                    found.add(sub)
    return found


def test_every_import_goes_down_the_layers():
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        name = module_name(path)
        mine = layer_of(name)
        for target in sorted(imports_of(path)):
            if target == "tryon":
                continue
            if layer_of(target) > mine:
                wrong.append(f"{name} ({LAYERS[mine][0]}) imports {target} ({LAYERS[layer_of(target)][0]})")
    assert not wrong, "imports that go up the layers:\n  " + "\n  ".join(wrong)


def test_the_layer_test_sees_a_wrong_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from tryon.pipeline import Pipeline\n")
    assert "tryon.pipeline" in imports_of(bad)
    assert layer_of("tryon.anchors.ears") < layer_of("tryon.pipeline")
    with pytest.raises(AssertionError, match="in no layer"):
        layer_of("elsewhere.module")
