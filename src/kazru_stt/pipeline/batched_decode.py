"""Decoding packed speech in windows cut at pauses, `batch_size` windows at a time (1: one
after another), losing nothing.

The packed stretches are grouped into windows of at most 30 s, and a batch of windows goes
through Whisper at once (one encoder and one decoder call per batch): on a CPU the
decoder's steps are shared by the batch, the encoder's are not. A window is decoded once,
so what a seek loop does between windows is done here after each batch:

- Whisper may end a window's decode early, at a timestamp, with speech after it. A plain
  batched pipeline loses that speech (faster-whisper's BatchedInferencePipeline lost 28 of
  78 clips of a 10-minute file here), and Whisper's own seek loop loses it too when the
  pause falls near the end of the audio. The rest of such a window, from where its decode
  stopped (with a second of what came before as context), is decoded again, packed with
  the other windows' rests.
- A window whose decode fails Whisper's own gates (compression ratio > 2.4, or mean
  log-probability < -1.0 where it is not silence) or loops gets the temperature ladder,
  one by one, as a sequential decode would; the better of the two decodes is kept.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import replace

from kazru_stt.engines.whisper import EncoderReuse, RawSegment, WhisperEngine
from kazru_stt.engines.whisper.decoding import (
    MAX_COMPRESSION_RATIO,
    MIN_AVG_LOGPROB,
    NO_SPEECH_THRESHOLD,
)
from kazru_stt.media import SAMPLE_RATE
from kazru_stt.pipeline.guards import compression_ratio, is_loop
from kazru_stt.pipeline.speech_regions import VAD_OPTIONS, PackedSpeech, Region

WINDOW_S = 30.0  # Whisper's window
# The rest of a window is decoded again when the voice detector heard at least this much
# speech after the decode stopped (a short word), not counting the padding it puts around
# its regions: padding and pauses alone cost nothing and invent nothing.
MIN_REST_SPEECH_S = 0.3
MAX_REST_ROUNDS = 2
# A rest is decoded from this much before where the decode stopped, and only the words from
# the stop on are kept: a rest cut exactly at the stop starts in the tail of the last word,
# which Whisper then writes as a word of its own at low confidence (vosk_commands' rest came
# out "днем погода." at -1.0 and failed the gates on a CPU without AVX2; "погода" was lost).
REST_CONTEXT_S = 1.0


def _fails_gates(segments: list[RawSegment]) -> bool:
    if not segments:
        return False
    logprob = min(s.avg_logprob for s in segments)
    if max(s.no_speech_prob for s in segments) > NO_SPEECH_THRESHOLD and logprob < MIN_AVG_LOGPROB:
        return False  # silence: Whisper skips it rather than retrying
    return logprob < MIN_AVG_LOGPROB or _loops(segments)


def _loops(segments: list[RawSegment]) -> bool:
    text = "".join(s.text for s in segments)
    # Whisper's compression gate, or a unit repeated three times or more: the pipeline
    # would cut that out and call the passage not credible, so it is worth the ladder (a
    # loop over a short window does not reach the compression gate; kk_cs/kzaudio_17 came
    # out empty without this).
    return compression_ratio(text) > MAX_COMPRESSION_RATIO or is_loop(text, max_repeats=2)


def _shifted(segment: RawSegment, dt: float) -> RawSegment:
    return replace(
        segment,
        start=segment.start + dt,
        end=segment.end + dt,
        words=[replace(w, start=w.start + dt, end=w.end + dt) for w in segment.words],
    )


def _mean_logprob(segments: list[RawSegment]) -> float:
    return sum(s.avg_logprob for s in segments) / len(segments) if segments else float("-inf")


def _with_ladder(
    engine: WhisperEngine,
    audio,
    window: tuple[float, float],
    first: list[RawSegment],
    language: str,
    beam_size: int | None,
    temperatures: tuple[float, ...],
) -> list[RawSegment]:
    """The window decoded one by one at the ladder's higher temperatures; kept when it
    passes the gates, or explains the window better than the batched decode did."""
    a, b = window
    piece = audio[int(round(a * SAMPLE_RATE)) : int(round(b * SAMPLE_RATE))]
    retry = [
        _shifted(s, a)
        for s in engine.transcribe(piece, language, beam_size=beam_size, temperatures=temperatures)
    ]
    if not retry:
        return first
    if not _fails_gates(retry):
        return retry
    # Below the gates both: the likelier one, but never a loop over what was not one (a
    # loop's tokens are likely: its repeats are what the decoder expects).
    if _mean_logprob(retry) > _mean_logprob(first) and (_loops(first) or not _loops(retry)):
        return retry
    return first


def _passing_parts(stream: PackedSpeech, segments: list[RawSegment]) -> list[RawSegment]:
    """A rest window's segments without those of the rests whose decode fails the gates (a
    rest that decodes only below them holds no words). Each rest is judged on its own: the
    rests a window packs come from different places, and the same phrase said in several
    of them is no loop (the 10-minute benchmark lost 4 of 78 clips that way)."""
    by_part: dict[int, list[RawSegment]] = {}
    for s in segments:
        by_part.setdefault(stream.span_index((s.start + s.end) / 2), []).append(s)
    return [s for part in by_part.values() if not _fails_gates(part) for s in part]


def _speech_after(speech: list[tuple[float, float]], start: float, end: float) -> float:
    pad = VAD_OPTIONS.speech_pad_ms / 1000
    return sum(max(0.0, min(b - pad, end) - max(a + pad, start)) for a, b in speech)


def _on_clock_of(stream: PackedSpeech, segment: RawSegment) -> RawSegment:
    """A segment decoded on `stream` moved to the clock `stream` was cut from."""

    def back(t: float) -> float:
        return stream.to_original(t, stream.span_index(t))

    words = []
    for w in segment.words:
        i = stream.span_index((w.start + w.end) / 2)
        words.append(
            replace(w, start=stream.to_original(w.start, i), end=stream.to_original(w.end, i))
        )
    return replace(segment, start=back(segment.start), end=back(segment.end), words=words)


def _without_context(
    segments: list[RawSegment], parts: list[tuple[float, float]], keep_from: list[float]
) -> list[RawSegment]:
    """Segments (on the parts' clock) without the words a part holds only as context,
    before its `keep_from` (parts in time order)."""
    if all(k <= a for k, (a, _) in zip(keep_from, parts, strict=True)):
        return segments  # no part carries context
    starts = [a for a, _ in parts]
    out = []
    for seg in segments:
        words = []
        for w in seg.words:
            mid = (w.start + w.end) / 2
            i = bisect.bisect_right(starts, mid) - 1
            if i < 0 or mid > parts[i][1] or mid >= keep_from[i]:
                words.append(w)
        if len(words) == len(seg.words):
            out.append(seg)
        elif words:
            text = "".join(w.text for w in words)
            out.append(replace(seg, start=words[0].start, text=text, words=words))
    return out


def _rest_windows(stream: PackedSpeech, workers: int) -> list[tuple[float, float]]:
    """A rest round's windows: its rests packed into windows of at most 30 s, but spread
    over as many windows as the model has workers where the rests allow. A rest round
    waits for its own decodes: in one window it keeps one worker busy and the others
    idle (the 10-minute benchmark's rests filled a 25 s window in each 5-minute block)."""
    windows = stream.windows(WINDOW_S)
    stretches = stream.stretches()
    if workers < 2 or len(windows) >= workers or len(stretches) < 2:
        return windows
    total = stretches[-1][1] - stretches[0][0]
    size = max(max(b - a for a, b in stretches), total / workers)
    while size < WINDOW_S:
        spread = stream.windows(size)
        if len(spread) <= workers:
            return spread
        size += 1.0
    return windows


def decode_batched(
    engine: WhisperEngine,
    packed: PackedSpeech,
    speech: list[tuple[float, float]],
    language: str,
    beam_size: int | None,
    temperatures: tuple[float, ...],
    on_segment: Callable[[float], None] | None = None,
    reuse: EncoderReuse | None = None,
    languages: list[tuple[float, float, dict[str, float], bool]] | None = None,
) -> list[RawSegment]:
    """Raw segments of the packed stream, on its clock, decoded in batches of windows;
    `speech`: the voice detector's regions on the same clock. With `reuse`, the first
    round's encoder outputs are kept and reused there; with `languages` too, it gets (start,
    end, Whisper's language probabilities, decoded at beam 1) of each first-round window, on
    the packed clock.

    Each round packs its parts of the stream (first its windows, then the rests that a
    decode stopped short of) into windows of at most 30 s, so the rests of many windows
    share one window rather than costing an encoder pass each."""
    out: list[RawSegment] = []
    parts = []
    for a, b in packed.windows(WINDOW_S):
        if b - a <= WINDOW_S + 1e-6:
            parts.append((a, b))
            continue
        # A single stretch over 30 s (rare: VAD caps regions at 30 s): one by one.
        piece = packed.audio[int(round(a * SAMPLE_RATE)) : int(round(b * SAMPLE_RATE))]
        out += [
            _shifted(s, a)
            for s in engine.transcribe(
                piece, language, beam_size=beam_size, temperatures=temperatures
            )
        ]
    keep_from = [a for a, _ in parts]  # per part: words before this are context
    detect = languages is not None and reuse is not None
    for round_ in range(MAX_REST_ROUNDS + 1):
        if not parts:
            break
        stream = PackedSpeech(packed.audio, 0.0, [Region(a, b) for a, b in parts])
        windows = _rest_windows(stream, engine.workers) if round_ else stream.windows(WINDOW_S)

        def progress(t: float, stream=stream) -> None:
            if on_segment:
                on_segment(stream.to_original(t))

        decoded = engine.transcribe_clips(
            stream.audio,
            windows,
            language,
            beam_size=beam_size,
            temperature=temperatures[0],
            on_segment=progress,
            # Only the first round's windows recur in another language's pass (rests start
            # where that language's decode stopped): only they are kept.
            reuse=reuse if round_ == 0 else None,
            detect=detect and round_ == 0,
        )
        evidence_only = [False] * len(windows)
        if (
            round_ == 0
            and reuse is not None
            and languages is not None
            and len(reuse.detected) == len(windows)
        ):
            evidence_only = reuse.greedy
            for (wa, wb), probs, greedy in zip(windows, reuse.detected, reuse.greedy, strict=True):
                languages.append((stream.to_original(wa), stream.to_original(wb), probs, greedy))
        rests, rests_from = [], []
        for window, segments, evidence in zip(windows, decoded, evidence_only, strict=True):
            if round_:
                segments = _passing_parts(stream, segments)
            # (a rest window's failing rests are gone: a rest is not laddered)
            laddered = not round_ and len(temperatures) > 1 and _fails_gates(segments)
            if laddered:
                segments = _with_ladder(
                    engine, stream.audio, window, segments, language, beam_size, temperatures[1:]
                )
            on_clock = [_on_clock_of(stream, s) for s in segments]
            out += _without_context(on_clock, parts, keep_from)
            if laddered or evidence or not segments or round_ == MAX_REST_ROUNDS:
                # (the ladder decodes one by one: it seeks to the window's end; a decode
                # for evidence only is no transcript)
                continue
            stop = max(segments[-1].end, segments[-1].start)  # on the stream's clock
            for (a, b), kept, (pa, pb) in zip(parts, keep_from, stream.stretches(), strict=True):
                if pb <= stop or pa >= window[1] or pb <= window[0]:
                    continue  # decoded, or in another window
                start = max(stream.to_original(max(stop, pa)), kept)
                if _speech_after(speech, start, b) >= MIN_REST_SPEECH_S:
                    rests.append((max(a, start - REST_CONTEXT_S), b))
                    rests_from.append(start)
        parts, keep_from = rests, rests_from
    out.sort(key=lambda s: s.start)
    return out
