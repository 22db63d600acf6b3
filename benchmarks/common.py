"""Helpers shared by the benchmark scripts (not tests: they print figures, assert nothing)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from kazru_stt.domain.text_compare import normalize  # noqa: E402  (the service's, shared)

__all__ = ["EVAL_DIR", "ROOT", "manifest", "normalize"]

EVAL_DIR = Path(os.environ.get("KAZRU_EVAL_DIR", ROOT.parent / "shared" / "eval"))


def manifest() -> list[dict]:
    with (EVAL_DIR / "manifest.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
