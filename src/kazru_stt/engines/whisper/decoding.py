"""How Whisper decodes here: the model's settings, the token cap, the temperature ladder and
the fallback gates, how much the detector reads, and how a CPU's cores are shared."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class EngineConfig:
    model_dir: str
    model_name: str
    device: str = "auto"
    compute_type: str = "default"
    cpu_threads: int = 0
    beam_size: int = 5
    batch_size: int = 1  # windows decoded at once (transcribe_clips); 1: one by one


# Whisper emits at most ~15 tokens per second of speech (Kazakh letters cost two byte-level
# tokens each); a cap from the audio's length stops a runaway loop early instead of letting
# it fill 448 tokens at every temperature of the fallback ladder.
_TOKENS_PER_SECOND = 20
# A short ladder: each step re-decodes a whole 30 s window; past 0.4 the output is rarely
# better, only more invented.
TEMPERATURES = (0.0, 0.2, 0.4)
GREEDY_ONLY = (0.0,)  # for evidence: a loop at temperature 0 already says "not this language"
_MAX_TOKENS = 440
# A job's hint (its terms) is read as the text before each window, as much of it as fits
# here: a window keeps room for 380 tokens of its own (Whisper writes 448 after its prompt
# at most), and a long hint makes the model more likely to write the hint, not the speech.
HINT_MAX_TOKENS = 64
# Whisper's own fallback gates (faster-whisper's defaults): a window decoded above this
# compression ratio or below this mean log-probability is retried at the next temperature,
# unless its no-speech probability says it is silence.
MAX_COMPRESSION_RATIO = 2.4
MIN_AVG_LOGPROB = -1.0
NO_SPEECH_THRESHOLD = 0.6
_GATES = {
    "compression_ratio_threshold": MAX_COMPRESSION_RATIO,
    "log_prob_threshold": MIN_AVG_LOGPROB,
    "no_speech_threshold": NO_SPEECH_THRESHOLD,
}


# Whisper's detector on a passage of its own reads the passage cut to its length plus 1 s,
# at least 10 s, not padded to 30 s: the encoder's time grows with its input, and the
# language rule scores alike on both reads (docs/decisions.md#detector-read).
DETECTOR_MIN_FRAMES = 1000  # 10 ms each
DETECTOR_PAD_FRAMES = 100


def detector_frames(frames: int, window_frames: int = 3000) -> int:
    """How many feature frames of a passage of `frames` Whisper's detector reads."""
    n = min(max(frames + DETECTOR_PAD_FRAMES, DETECTOR_MIN_FRAMES), window_frames)
    return n + n % 2  # the encoder's first convolution halves the frames


def max_tokens_for(seconds: float) -> int:
    return int(min(_MAX_TOKENS, 10 + _TOKENS_PER_SECOND * min(seconds, 30.0)))


def resolved_device(device: str) -> str:
    """`auto`: the GPU when CTranslate2 sees one."""
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def resolved_compute_type(device: str, compute_type: str) -> str:
    """`default`: int8 on a CPU (fastest there, and what the figures were measured with),
    float16 on a GPU."""
    if compute_type != "default":
        return compute_type
    return "float16" if resolved_device(device) == "cuda" else "int8"


def decode_workers(config: EngineConfig) -> tuple[int, int]:
    """(model workers, threads each). Batched decoding on a CPU runs one single-threaded
    worker per core, each decoding its own share of a batch: the decoder's steps hardly use
    a second thread while the encoder's do (docs/decisions.md#decode-workers). One by one,
    or on a GPU: one worker with every thread."""
    threads = config.cpu_threads or min(4, os.cpu_count() or 1)
    if config.batch_size > 1 and threads > 1 and resolved_device(config.device) == "cpu":
        return threads, 1
    return 1, threads
