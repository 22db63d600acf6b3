"""Helpers shared by the benchmark scripts (not tests: they print figures, assert nothing)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

EVAL_DIR = Path(os.environ.get("KAZRU_EVAL_DIR", ROOT.parent / "shared" / "eval"))


def manifest() -> list[dict]:
    with (EVAL_DIR / "manifest.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def normalize(text: str) -> str:
    """Case, punctuation and ё/е folded, for Cyrillic Kazakh and Russian alike."""
    text = text.lower().replace("ё", "е").replace("|", " ")
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())
