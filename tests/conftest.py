"""Shared fixtures: the eval recordings, the real engine (loaded once), audio builders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from kazru_stt.media.encode import write_wav  # noqa: F401  (re-exported for tests)

EVAL_DIR = Path(
    os.environ.get("KAZRU_EVAL_DIR", Path(__file__).resolve().parents[2] / "shared" / "eval")
)
if not EVAL_DIR.is_dir():  # CI lays shared/ beside the clone
    EVAL_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "eval"


def manifest() -> list[dict]:
    with (EVAL_DIR / "manifest.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    if not EVAL_DIR.is_dir():
        pytest.fail(f"evaluation recordings not found at {EVAL_DIR}")
    return EVAL_DIR


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    # One assembled model per test session, in a temporary cache (never the user's).
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def engine(model_cache):
    from kazru_stt.engines.whisper_local import get_engine

    return get_engine(None, model_cache, device="cpu")


def concat_clips(
    paths: list[Path], gap_s: float = 0.7
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Join real clips with silence between them; returns audio and each clip's span."""
    from kazru_stt.media import load_audio

    pieces, spans, t = [], [], 0.0
    gap = np.zeros(int(gap_s * 16000), dtype=np.float32)
    for p in paths:
        a = load_audio(p)
        spans.append((t, t + a.size / 16000))
        pieces += [a, gap]
        t += (a.size + gap.size) / 16000
    return np.concatenate(pieces), spans
