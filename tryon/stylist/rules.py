"""The stylist's rules as data: assets/stylist_rules.json, checked against its schema on load.

A rule applies when every condition in its `when` holds for the measured facts (a list: the fact is one of
them; a pair [lo, hi]: lo <= fact < hi). A fact that was not measured (no hand in view: no finger size) makes
the rules that ask for it not apply. The reason is a str.format template filled from the facts.
"""

from __future__ import annotations

import functools
import json
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tryon.errors import AssetError
from tryon.jewelry.catalog import DEFAULT_ASSETS_DIR

RULES_FILE = DEFAULT_ASSETS_DIR / "stylist_rules.json"
SCHEMA_FILE = DEFAULT_ASSETS_DIR / "stylist_rules.schema.json"
TOPICS = ("metal", "earrings", "necklace", "ring", "wrist")
# What a reason may name besides the facts in `when` (filled by tryon.stylist.advise).
EXTRA_FIELDS = frozenset({"undertone", "face_shape", "face_width_mm", "neck_mm", "finger_us", "wrist_mm",
                          "bracelet_mm"})


@dataclass(frozen=True)
class Rule:
    id: str
    topic: str
    when: Mapping[str, Any] = field(hash=False)
    suggest: Mapping[str, Any] = field(hash=False)
    reason: str
    source: str

    def applies(self, facts: Mapping[str, Any]) -> bool:
        for key, cond in self.when.items():
            value = facts.get(key)
            if value is None:
                return False
            if isinstance(cond[0], str):
                if value not in cond:
                    return False
            elif not cond[0] <= float(value) < cond[1]:
                return False
        return True

    def reason_for(self, facts: Mapping[str, Any]) -> str:
        return self.reason.format(**{k: v for k, v in facts.items() if v is not None})


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    sources: Mapping[str, str] = field(hash=False)

    def matching(self, topic: str, facts: Mapping[str, Any]) -> tuple[Rule, ...]:
        """The rules of this topic that apply to these facts, in file order."""
        return tuple(r for r in self.rules if r.topic == topic and r.applies(facts))


def check_rules(data: Any, where: str = "stylist rules") -> None:
    """Raise AssetError naming the first problem: the schema, then what a schema cannot say (unique ids, known
    sources, ranges with lo <= hi, reasons that name only known facts)."""
    import jsonschema

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        at = "/".join(str(p) for p in e.absolute_path) or "the top level"
        raise AssetError(f"{where}: {at}: {e.message}")
    seen: set[str] = set()
    for rule in data["rules"]:
        rid = rule["id"]
        if rid in seen:
            raise AssetError(f"{where}: rule {rid!r} is listed twice")
        seen.add(rid)
        if rule["source"] not in data["sources"]:
            raise AssetError(f"{where}: rule {rid!r} cites unknown source {rule['source']!r}")
        for part in (rule["when"], rule["suggest"]):
            for key, value in part.items():
                if len(value) == 2 and not isinstance(value[0], str) and key != "lengths_cm" and value[0] > value[1]:
                    raise AssetError(f"{where}: rule {rid!r}: {key} range {value} runs backwards")
        names = {f[1].split(".")[0].split("[")[0] for f in string.Formatter().parse(rule["reason"]) if f[1]}
        unknown = names - EXTRA_FIELDS
        if unknown:
            raise AssetError(f"{where}: rule {rid!r}: its reason names unknown facts {sorted(unknown)}")


def rules_from(data: Any, where: str = "stylist rules") -> Rules:
    check_rules(data, where)
    return Rules(tuple(Rule(r["id"], r["topic"], dict(r["when"]), dict(r["suggest"]), r["reason"], r["source"])
                       for r in data["rules"]), dict(data["sources"]))


@functools.cache
def load_rules(path: Path = RULES_FILE) -> Rules:
    """The rules in `path` (default: the shipped assets/stylist_rules.json), checked; AssetError if bad."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise AssetError(f"cannot read the stylist rules {path}: {e}") from e
    return rules_from(data, str(path))
