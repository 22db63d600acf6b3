"""Characters no stored string carries: control characters (a NUL breaks PostgreSQL's text,
the rest breaks lines and terminals) and the bidirectional embedding, override and isolate
controls that make "gpj.exe" show as "exe.jpg". One home for both, for input that is
refused (JSON and form fields) and for names that are cleaned (an uploaded file's name)."""

from __future__ import annotations

import re
from typing import Any

# C0 controls but tab, line feed and carriage return; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# LRE RLE PDF LRO RLO, LRI RLI FSI PDI, and the marks LRM RLM ALM.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def unsafe_character(value: Any) -> str | None:
    """The first control or bidirectional control character in a string, or in the strings
    of a JSON-like value, as U+XXXX; None when there is none."""
    if isinstance(value, str):
        found = _CONTROL.search(value) or _BIDI.search(value)
        return f"U+{ord(found.group()):04X}" if found else None
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list | tuple):
        for item in value:
            if (inner := unsafe_character(item)) is not None:
                return inner
    return None


def clean_name(name: str) -> str:
    """A name fit to show: without control or bidirectional control characters."""
    return _BIDI.sub("", _CONTROL.sub("", name))
