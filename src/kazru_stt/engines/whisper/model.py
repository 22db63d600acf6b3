"""A Whisper model loaded through faster-whisper (CTranslate2): decoding a passage with the
temperature ladder, decoding clips in batches shared among the model's workers, and
Whisper's language detector."""

from __future__ import annotations

import bisect
import copy
import itertools
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from kazru_stt.allocator import disable_mkl_buffer_pool, limit_malloc_arenas
from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.errors import ModelError
from kazru_stt.domain.vocabulary import full_stop
from kazru_stt.engines.whisper.decoding import (
    _GATES,
    HINT_MAX_TOKENS,
    TEMPERATURES,
    EngineConfig,
    decode_workers,
    detector_frames,
    max_tokens_for,
    resolved_compute_type,
)
from kazru_stt.engines.whisper.encoder_reuse import EncoderReuse, ReusingModel, WindowEncoder
from kazru_stt.engines.whisper.results import RawSegment, raw_segment

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

_T = TypeVar("_T")


@dataclass
class _Decoded:
    segments: list[list[RawSegment]]  # per clip of a worker's share
    reusing: ReusingModel | None  # with an EncoderReuse: that share's detections


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
        # The hint a job's decodes are given (`hinted`); this object is the cache's, with none.
        self.hint: str | None = None
        self._hint_tokens = 0
        self._origin = self

    def hinted(self, hint: str | None) -> WhisperEngine:
        """This model, decoding with `hint` (a job's terms and prompt) as the text before
        each window: as much of it as fits in HINT_MAX_TOKENS, cut between words. Shares
        the loaded model, its lock and its idle clock with this one."""
        if not hint:
            return self
        kept: list[str] = []
        count = 0
        for word in hint.split():
            text = " " + full_stop(" ".join([*kept, word]))
            tokens = len(self.model.hf_tokenizer.encode(text, add_special_tokens=False).ids)
            if tokens > HINT_MAX_TOKENS:
                break
            kept.append(word)
            count = tokens
        if not kept:
            return self
        view = copy.copy(self)
        view.hint, view._hint_tokens = full_stop(" ".join(kept)), count
        return view

    def _touch(self) -> None:
        self._origin.last_used = time.monotonic()

    def _max_new_tokens(self, seconds: float) -> int:
        # Whisper writes at most 448 tokens after its prompt: the hint's, the previous-text
        # token and the start sequence (3) come off that.
        room = self.model.max_length - (self._hint_tokens + 4 if self.hint else 0)
        return min(max_tokens_for(seconds), room)

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
            self._touch()
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
                max_new_tokens=self._max_new_tokens(audio.size / 16000.0),
                hotwords=self.hint,
            )
            return [raw_segment(s, s.temperature or 0.0) for s in segments]

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
            "max_new_tokens": self._max_new_tokens(max(b - a for a, b in clips)),
            "hotwords": self.hint,
        }
        batch, shares, chosen = self._shares(len(clips))
        from faster_whisper import BatchedInferencePipeline

        def decode(share: list[int], report: Callable[[float], None]) -> _Decoded:
            reusing = None if reuse is None else ReusingModel(chosen, reuse, detect, language)
            model = WindowEncoder(chosen) if reusing is None else reusing
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
                decoded.segments[i].append(raw_segment(seg, temperature))
                report(seg.end)
            return decoded

        with self._lock:
            self._touch()
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
            self._touch()
            return [p for part in _in_parallel(detect, shares, self.workers, None) for p in part]
