"""Shared fixtures: the eval recordings, the real engine (loaded once), audio builders."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

from kazru_stt.media.encode import write_wav  # noqa: F401  (re-exported for tests)

# Checks shared by tests on several databases: their asserts explain themselves too.
pytest.register_assert_rewrite("tests.search_checks")

# The recordings the tests use live in the repository (tests/data, with their licenses);
# KAZRU_EVAL_DIR may point at another set with the same layout (e.g. ../shared/eval).
EVAL_DIR = Path(os.environ.get("KAZRU_EVAL_DIR") or Path(__file__).resolve().parent / "data")


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
    from kazru_stt.engines.whisper import get_engine

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


def tone_wav(seconds: float = 1.0) -> bytes:
    """A WAV of a quiet 220 Hz tone: a real upload that no worker needs to transcribe."""
    buf = io.BytesIO()
    t = np.arange(int(seconds * 16000)) / 16000
    write_wav(buf, (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32))
    return buf.getvalue()


def words_inside(transcript) -> bool:
    """Every word's time lies inside its passage (20 ms of rounding allowed)."""
    return all(
        s.start - 0.02 <= w.start <= w.end <= s.end + 0.02
        for s in transcript.segments
        for w in s.words
    )


def write_undeclared_mkv(path: Path, seconds: int) -> Path:
    """A Matroska/Opus tone whose container declares no duration (written as a stream is:
    without seeking back), for duration checks that must not trust the header."""
    import io

    import av

    class Stream(io.RawIOBase):
        def __init__(self):
            self.data = bytearray()

        def writable(self):
            return True

        def seekable(self):
            return False

        def write(self, b):
            self.data += bytes(b)
            return len(b)

    out, rate = Stream(), 48000
    container = av.open(out, "w", format="matroska")
    stream = container.add_stream("libopus", rate=rate)
    stream.layout = "mono"
    second = (0.1 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype(np.float32)
    for i in range(seconds):
        frame = av.AudioFrame.from_ndarray(second.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate, frame.pts = rate, i * rate
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()
    path.write_bytes(out.data)
    return path


# The fast tier (`scripts/test.sh --fast`, under 60 s in all): in-process, without the model,
# a server or a browser.
UNIT_DIR = Path(__file__).resolve().parent / "unit"
UNIT_TIMEOUT_S = 30
MODEL_FIXTURES = {"engine", "model_cache"}


def pytest_collection_modifyitems(config, items):
    # Tiers by where a test lives and what it asks for, so no test can sit in the wrong one.
    for item in items:
        if UNIT_DIR in Path(item.fspath).parents:
            if used := MODEL_FIXTURES & set(item.fixturenames):
                raise pytest.UsageError(f"{item.nodeid} is in the unit tier but uses {used}")
            item.add_marker(pytest.mark.unit)
            item.add_marker(pytest.mark.timeout(UNIT_TIMEOUT_S))
            continue
        item.add_marker(pytest.mark.process)
        if MODEL_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.model)
        if item.module.__name__.endswith("test_web"):
            item.add_marker(pytest.mark.browser)
