"""The local engine: Whisper through faster-whisper (CTranslate2), offline.

One model per process (loading takes a second and ~150 MB); `get_engine` caches it.
Decoding options are chosen against Whisper's known failure modes: no conditioning on
previous text (a loop cannot feed itself), a short temperature ladder, and the
compression-ratio / log-prob / no-speech gates; the pipeline adds its own filters.
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import itertools
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from kazru_stt import idle_models
from kazru_stt.allocator import return_freed_memory
from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.errors import ModelError
from kazru_stt.engines.model_store import BUNDLED_MODEL_NAME, bundled_model_dir, verify_model_dir

if TYPE_CHECKING:
    from faster_whisper import WhisperModel


@dataclass
class RawWord:
    start: float
    end: float
    text: str  # with Whisper's leading space
    probability: float


@dataclass
class RawSegment:
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    temperature: float
    words: list[RawWord] = field(default_factory=list)


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
# at least 10 s, not padded to 30 s: the encoder's time grows with its input (4.3x less over
# the passages of benchmarks/lid_passages.py: 0.44 s a passage against 1.9 s, 2 cores). The
# language rule is fitted on this read and on the 30 s window's alike (there: 94.6% right on
# either, sources held out). 10 s was chosen among 3, 5, 10 and 15 s by that held-out score
# (5 s: 94.2% on this read but 93.3% on the window's), so the score is a little kind.
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
    worker per core, each decoding its own share of a batch: the decoder's steps hardly
    use a second thread (0.34 s a window on one, 0.37 on two, beam 5 at batch 8 on this
    2-core machine) while the encoder's do, so a worker encoding beside one decoding keeps
    both cores busy (10.6 min of Russian: 22 s against 28 s). One by one, or on a GPU: one
    worker with every thread."""
    threads = config.cpu_threads or min(4, os.cpu_count() or 1)
    if config.batch_size > 1 and threads > 1 and resolved_device(config.device) == "cpu":
        return threads, 1
    return 1, threads


def _raw_segment(s, temperature: float) -> RawSegment:
    """Ours from faster-whisper's Segment."""
    return RawSegment(
        start=s.start,
        end=s.end,
        text=s.text,
        avg_logprob=s.avg_logprob,
        no_speech_prob=s.no_speech_prob,
        compression_ratio=s.compression_ratio,
        temperature=temperature,
        words=[RawWord(w.start, w.end, w.word, w.probability) for w in (s.words or [])],
    )


class EncoderReuse:
    """One block's encoder outputs, kept by the features they came from, for the decodes
    of a language choice: the same windows decoded again in another language skip the
    encoder, and Whisper's detector is read from the outputs (one decoder step) instead of
    an encoder pass of its own per passage. The outputs are kept in host memory (CPU only:
    on a GPU the encoder is cheap) and go with this object."""

    def __init__(self, evidence_below: float = 0.0) -> None:
        self.outputs: dict[bytes, np.ndarray] = {}
        self.detected: list[dict[str, float]] = []  # per clip of the last call, in order
        self.reused = 0  # windows whose encoder pass was saved
        # With detection: a clip whose detector gives the decode's language less than this
        # is decoded at beam 1, as evidence only (a beam costs a third of a window's time on
        # a CPU, and a decode in the wrong language is thrown away); `greedy` says which.
        self.evidence_below = evidence_below
        self.greedy: list[bool] = []  # per clip of the last call, in order

    @staticmethod
    def key(features: np.ndarray) -> bytes:
        return hashlib.blake2b(np.ascontiguousarray(features).tobytes(), digest_size=16).digest()


def _encode(model, features: np.ndarray):
    """The encoder's outputs for a batch of windows' features. On a CPU, one window at a
    time: the activations of several 30 s windows overflow the caches, and a batch of 4
    took 1.27x as long as the same 4 one by one, with the same outputs (a worker of one
    thread each, both busy). On a GPU, the batch at once."""
    if features.ndim == 2 or len(features) == 1 or model.model.device != "cpu":
        return model.encode(features)
    import ctranslate2

    outputs = [np.array(model.encode(window[None])) for window in features]
    return ctranslate2.StorageView.from_array(np.concatenate(outputs))


class _WindowEncoder:
    """The WhisperModel as faster-whisper's batched pipeline sees it, encoding as `_encode`
    does."""

    def __init__(self, model):
        self._model = model

    def __getattr__(self, name: str):
        return getattr(self._model, name)

    def encode(self, features: np.ndarray):
        return _encode(self._model, features)


class _ReusingModel(_WindowEncoder):
    """The WhisperModel as faster-whisper's batched pipeline sees it, its encoder going
    through an EncoderReuse (and, with `detect`, the detector read from each output, and the
    clips it does not give `language` decoded at beam 1)."""

    def __init__(self, model, reuse: EncoderReuse, detect: bool, language: str):
        super().__init__(model)
        self._reuse, self._detect = reuse, detect
        self._language = language
        self._on_host = model.model.device == "cpu"
        self._batch_greedy: list[bool] = []  # per clip of the batch just encoded
        # Per clip encoded through this object, in order (a call's workers each have one;
        # the call gathers them into the EncoderReuse).
        self.detected: list[dict[str, float]] = []
        self.greedy: list[bool] = []
        self.reused = 0

    @property
    def model(self):  # the CTranslate2 model, as the pipeline calls it to generate
        return _BeamPerClip(self._model.model, self._batch_greedy)

    def encode(self, features: np.ndarray):
        import ctranslate2

        batch = features if features.ndim == 3 else features[None]
        keys = [EncoderReuse.key(f) for f in batch]
        kept = self._reuse.outputs
        if self._on_host and all(k in kept for k in keys):
            output = ctranslate2.StorageView.from_array(np.stack([kept[k] for k in keys]))
            self.reused += len(keys)
        else:
            output = super().encode(features)
            if self._on_host:
                kept.update(zip(keys, np.array(output), strict=True))
        self._batch_greedy = []
        if self._detect:
            probs = [
                {token[2:-2]: p for token, p in result}
                for result in self._model.model.detect_language(output)
            ]
            greedy = [p.get(self._language, 0.0) < self._reuse.evidence_below for p in probs]
            if not self._on_host and not all(greedy):
                greedy = [False] * len(greedy)  # a batch is split on the host only
            self.detected += probs
            self.greedy += greedy
            self._batch_greedy = greedy
        return output


class _BeamPerClip:
    """The CTranslate2 Whisper model, generating at beam 1 for the clips flagged greedy."""

    def __init__(self, whisper, greedy: list[bool]):
        self._whisper, self._greedy = whisper, greedy

    def __getattr__(self, name: str):
        return getattr(self._whisper, name)

    def generate(self, encoder_output, prompts, **options):
        import ctranslate2

        greedy = self._greedy
        if not any(greedy):
            return self._whisper.generate(encoder_output, prompts, **options)
        if all(greedy):
            return self._whisper.generate(encoder_output, prompts, **{**options, "beam_size": 1})
        outputs = np.array(encoder_output)
        results: list = [None] * len(prompts)
        for flag in (True, False):
            idx = [i for i, g in enumerate(greedy) if g == flag]
            part = ctranslate2.StorageView.from_array(np.ascontiguousarray(outputs[idx]))
            kwargs = {**options, "beam_size": 1} if flag else options
            generated = self._whisper.generate(part, [prompts[i] for i in idx], **kwargs)
            for i, result in zip(idx, generated, strict=True):
                results[i] = result
        return results


_T = TypeVar("_T")


@dataclass
class _Decoded:
    segments: list[list[RawSegment]]  # per clip of a worker's share
    reusing: _ReusingModel | None  # with an EncoderReuse: that share's detections


def _in_parallel(
    decode: Callable[[list[int], Callable[[float], None]], _T],
    shares: list[list[int]],
    workers: int,
    on_segment: Callable[[float], None] | None,
) -> list[_T]:
    """`decode` over the shares, `workers` at a time, results in order. Progress reaches
    `on_segment` on the calling thread only (it may write to the job's database session),
    as the workers decode."""
    report = on_segment or (lambda _t: None)
    if workers == 1 or len(shares) == 1:
        return [decode(share, report) for share in shares]
    ends: queue.SimpleQueue[float] = queue.SimpleQueue()
    pool = ThreadPoolExecutor(workers, thread_name_prefix="whisper")
    try:
        futures = [pool.submit(decode, share, ends.put) for share in shares]
        pending = set(futures)
        while pending:
            _done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            while not ends.empty():
                report(ends.get())
        return [f.result() for f in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class WhisperEngine:
    name = EngineName.LOCAL

    def __init__(self, config: EngineConfig):
        from faster_whisper import WhisperModel

        self.config = config
        self.model_name = config.model_name
        compute_type = resolved_compute_type(config.device, config.compute_type)
        self.workers, threads = decode_workers(config)
        if self.workers > 1:
            limit_malloc_arenas(self.workers)  # before the workers' threads start
        disable_mkl_buffer_pool()  # before the first model allocates

        def load(threads: int, workers: int):
            return WhisperModel(
                config.model_dir,
                device=config.device,
                compute_type=compute_type,
                cpu_threads=threads,
                num_workers=workers,  # the workers share the weights
                local_files_only=True,
            )

        try:
            self.model = load(threads, self.workers)
            # A lone window (a short recording, a rest round, the temperature ladder) on
            # one single-threaded worker would leave the other cores idle: it goes to a
            # second copy of the model with one worker and every thread (the encoder uses
            # them). Costs the weights once more (113 MB of RSS with the bundled base model).
            self.solo = load(threads * self.workers, 1) if self.workers > 1 else self.model
        except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError variants
            raise ModelError(f"cannot load model from {config.model_dir}: {exc}") from exc
        # CTranslate2 models are thread-safe for inference, but two jobs decoding at once
        # only thrash the cores one job's workers already use; serialise per process.
        self._lock = threading.Lock()
        self.last_used = time.monotonic()  # for unload_idle

    @property
    def supported_languages(self) -> set[str]:
        return set(self.model.supported_languages)

    def transcribe(
        self,
        audio: np.ndarray,
        language: str,
        *,
        beam_size: int | None = None,
        temperatures: tuple[float, ...] = TEMPERATURES,
    ) -> list[RawSegment]:
        """Decode `audio` (16 kHz mono float32, speech only) in `language`, window after
        window, with the temperature ladder and word times."""
        if audio.size == 0:
            return []
        with self._lock:
            self.last_used = time.monotonic()
            segments, _info = self.solo.transcribe(
                audio,
                language=language,
                beam_size=beam_size or self.config.beam_size,
                word_timestamps=True,
                condition_on_previous_text=False,
                temperature=temperatures,
                **_GATES,
                vad_filter=False,  # the pipeline ran VAD already
                without_timestamps=False,
                task="transcribe",
                max_new_tokens=max_tokens_for(audio.size / 16000.0),
            )
            return [_raw_segment(s, s.temperature or 0.0) for s in segments]

    def transcribe_clips(
        self,
        audio: np.ndarray,
        clips: list[tuple[float, float]],
        language: str,
        *,
        beam_size: int | None = None,
        temperature: float = 0.0,
        on_segment: Callable[[float], None] | None = None,
        reuse: EncoderReuse | None = None,
        detect: bool = False,
    ) -> list[list[RawSegment]]:
        """Decode each clip (start, end s of `audio`, each at most 30 s) in `language`,
        `batch_size` clips at a time (faster-whisper's batched pipeline: one encoder and one
        decoder call per batch; with several workers, each decodes an equal share of the
        batch), with timestamps and word times on `audio`'s clock; one
        decode per clip, at one temperature: the caller checks and re-decodes what fails.
        With `reuse`, encoder outputs are kept there and reused; with `detect` too, its
        `detected` holds each clip's language probabilities afterwards, and `greedy` which
        clips went at beam 1 (those below its `evidence_below`)."""
        out: list[list[RawSegment]] = [[] for _ in clips]
        if reuse is not None:
            reuse.detected, reuse.greedy = [], []
        if not clips:
            return out
        options = {
            "language": language,
            "beam_size": beam_size or self.config.beam_size,
            "temperature": temperature,
            "max_new_tokens": max_tokens_for(max(b - a for a, b in clips)),
        }
        batch, shares, chosen = self._shares(len(clips))
        from faster_whisper import BatchedInferencePipeline

        def decode(share: list[int], report: Callable[[float], None]) -> _Decoded:
            reusing = None if reuse is None else _ReusingModel(chosen, reuse, detect, language)
            model = _WindowEncoder(chosen) if reusing is None else reusing
            decoded = _Decoded([[] for _ in share], reusing)
            part = [clips[i] for i in share]
            starts = [a for a, _ in part]
            segments, _info = BatchedInferencePipeline(model).transcribe(
                audio,
                **options,
                word_timestamps=True,
                **_GATES,
                vad_filter=False,
                clip_timestamps=[{"start": a, "end": b} for a, b in part],
                without_timestamps=False,
                batch_size=batch,
            )
            for seg in segments:
                # A segment's clip: the last one starting at or before its middle (clips
                # are sorted; faster-whisper's rounded times can put a segment's start a few
                # ms before its clip's, and so in the previous clip).
                i = max(bisect.bisect_right(starts, (seg.start + seg.end) / 2) - 1, 0)
                decoded.segments[i].append(_raw_segment(seg, temperature))
                report(seg.end)
            return decoded

        with self._lock:
            self.last_used = time.monotonic()
            results = _in_parallel(decode, shares, self.workers, on_segment)
        for share, decoded in zip(shares, results, strict=True):
            for i, segments in zip(share, decoded.segments, strict=True):
                out[i] = segments
            if decoded.reusing is not None and reuse is not None:
                reuse.detected += decoded.reusing.detected
                reuse.greedy += decoded.reusing.greedy
                reuse.reused += decoded.reusing.reused
        return out

    def _shares(self, count: int) -> tuple[int, list[list[int]], WhisperModel]:
        """(clips per model call, the clips' indices per call, the model to call). One
        worker: one call for all, `batch_size` at a time. Several: equal shares of at most
        batch_size / workers each, so at most batch_size clips are in flight and no share is
        left over to keep one worker busy while the others wait; a single share goes to the
        copy of the model with every thread."""
        batch = max(self.config.batch_size, 1)
        if self.workers == 1:
            return batch, [list(range(count))], self.model
        batch = max(batch // self.workers, 1)
        calls = self.workers * -(-count // (self.workers * batch))
        bounds = [round(k * count / calls) for k in range(calls + 1)]
        shares = [list(range(a, b)) for a, b in itertools.pairwise(bounds) if b > a]
        return batch, shares, self.solo if len(shares) == 1 else self.model

    def detect_language(self, audio: np.ndarray) -> dict[str, float]:
        """Whisper's own detector: probability per language code over the first 30 s, read
        as `detect_languages` reads it."""
        return self.detect_languages([audio])[0]

    def detect_languages(self, clips: list[np.ndarray]) -> list[dict[str, float]]:
        """Whisper's detector on each clip's first 30 s, cut to `detector_frames` (not
        padded to a whole window as faster-whisper's detect_language pads it), the clips
        shared among the model's workers, encoded one at a time (their lengths differ)."""
        if not clips:
            return []
        from faster_whisper.audio import pad_or_trim

        extract = self.model.feature_extractor
        _batch, shares, chosen = self._shares(len(clips))

        def detect(share: list[int], _report) -> list[dict[str, float]]:
            probs = []
            for i in share:
                features = extract(clips[i][: extract.n_samples])[..., : extract.nb_max_frames]
                frames = detector_frames(features.shape[-1], extract.nb_max_frames)
                output = chosen.encode(pad_or_trim(features, frames))
                [result] = chosen.model.detect_language(output)
                probs.append({t[2:-2]: p for t, p in result})
            return probs

        with self._lock:
            self.last_used = time.monotonic()
            return [p for part in _in_parallel(detect, shares, self.workers, None) for p in part]


def resolve_model(model_path: str | os.PathLike | None, cache_dir: Path) -> tuple[str, str]:
    """(directory, display name) of the model to load: the given path or the bundled one."""
    if model_path:
        path = verify_model_dir(Path(model_path).expanduser())
        return str(path), path.name
    return str(bundled_model_dir(cache_dir)), BUNDLED_MODEL_NAME


_engines: dict[EngineConfig, WhisperEngine] = {}
_engines_lock = threading.Lock()


def _cached_engine(config: EngineConfig) -> WhisperEngine:
    with _engines_lock:
        engine = _engines.get(config)
        if engine is None:
            engine = _engines[config] = WhisperEngine(config)
        engine.last_used = time.monotonic()
        return engine


def unload_idle(max_idle_s: float) -> list[str]:
    """Forget the models unused for `max_idle_s` (the next job loads them again) and give
    their memory back to the system; returns their names. A job still holding one keeps
    it until it ends."""
    now = time.monotonic()
    with _engines_lock:
        idle = [c for c, e in _engines.items() if now - e.last_used >= max_idle_s]
        gone = [_engines.pop(c).model_name for c in idle]
    if gone:
        gc.collect()
        return_freed_memory()
    return gone


idle_models.register("whisper", unload_idle)


def loaded_models() -> list[str]:
    with _engines_lock:
        return [e.model_name for e in _engines.values()]


_M_ARENA_MAX = -8  # glibc's mallopt parameter


def limit_malloc_arenas(count: int) -> None:
    """At most `count` glibc heaps: glibc gives threads that allocate at once heaps of their
    own (up to 8 per core), each keeping what it freed, and the model's workers and the
    threads that feed them made a worker's peak grow with the recording (2 hours: 1654 MB
    against 1430 MB for 15 minutes; capped at 2: 1473 against 1294, same time). An
    operator's MALLOC_ARENA_MAX wins. glibc only: under jemalloc (see allocator) this changes
    nothing."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, count)
    except (OSError, AttributeError):
        pass  # not glibc


def disable_mkl_buffer_pool() -> None:
    """On Intel CPUs, CTranslate2 allocates through Intel MKL, whose own allocator keeps every
    buffer a thread freed for that thread's reuse, out of malloc_trim's reach. Without it
    a worker peaked lower and flatter (15 and 120 minutes: 990-998 and 1056-1063 MB against
    1066-1071 and 1159-1175 MB, two runs each) in the same time. MKL reads the setting once,
    at its first use (the first model's load, unless something used MKL before): see
    mkl_buffer_pool_off. An operator's MKL_DISABLE_FAST_MM wins. On AMD CPUs CTranslate2
    uses oneDNN, not MKL: there this changes nothing."""
    os.environ.setdefault("MKL_DISABLE_FAST_MM", "1")


def mkl_buffer_pool_off() -> bool | None:
    """Whether MKL itself has its buffer pool off in this process (None: CTranslate2 is not
    loaded or has no MKL, as on ARM)."""
    import ctypes

    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    paths = {line.split(None, 5)[-1] for line in maps.splitlines() if "libctranslate2" in line}
    for path in paths:
        status = getattr(ctypes.CDLL(path.strip()), "mkl_serv_get_fast_mm_status", None)
        if status is not None:
            return status() == 1
    return None


def get_engine(
    model_path: str | os.PathLike | None,
    cache_dir: Path,
    *,
    device: str = "auto",
    compute_type: str = "default",
    cpu_threads: int = 0,
    beam_size: int = 5,
    batch_size: int = 1,
    name: str | None = None,
) -> WhisperEngine:
    """The process-wide engine for these settings, loaded on first use; `name` is what
    transcripts call the model (default: its directory's name)."""
    model_dir, dir_name = resolve_model(model_path, cache_dir)
    return _cached_engine(
        EngineConfig(
            model_dir, name or dir_name, device, compute_type, cpu_threads, beam_size, batch_size
        )
    )
