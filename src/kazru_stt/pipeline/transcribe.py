"""The pipeline: decode -> VAD -> language per region -> engine -> Transcript.

Audio streams through in blocks of a few minutes; the speech region that runs over a
block's end is carried into the next block, so memory stays flat for hours of audio and
no word is cut in two.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import numpy as np

from kazru_stt.domain.languages import OTHER_LANGUAGE
from kazru_stt.domain.transcript import Segment, Speaker, Transcript
from kazru_stt.engines.whisper_local import (
    GREEDY_ONLY,
    TEMPERATURES,
    EncoderReuse,
    WhisperEngine,
)
from kazru_stt.media import SAMPLE_RATE, iter_audio, probe
from kazru_stt.pipeline import language as lid
from kazru_stt.pipeline.assemble import segments_from_words, words_by_region
from kazru_stt.pipeline.batched_decode import WINDOW_S, decode_batched
from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.pipeline.speech_regions import PackedSpeech, Region, decode_spans, find_speech
from kazru_stt.pipeline.stereo_calls import is_split_call, party_blocks

log = logging.getLogger(__name__)

BLOCK_SECONDS = 300.0
# A region ending this close to a block's end may go on in the next block.
_TAIL_MARGIN_S = 1.0
CREDIBLE_MIN_LOGPROB = -1.0
# Whisper pairs its no-speech probability with a low log-probability; the segment's average
# also counts the confident end and timestamp tokens, which can lift a single unsupported
# word over -1.0 (a melody decoded as "You": no-speech 0.78, word probability 0.04). So
# where Whisper thinks there is no speech, the words themselves must be supported. On the
# 55 eval clips, the 3 credible decodes with no-speech > 0.6 had mean word probability
# 0.38-0.48 (none of the 159 lost); chosen there, so a conservative bound.
NO_SPEECH_GATE = 0.6
NO_SPEECH_MIN_WORD_PROB = 0.2

ProgressFn = Callable[[float], None]
T = TypeVar("T")


def _with_last(items: Iterable[T]) -> Iterator[tuple[T, bool]]:
    it = iter(items)
    try:
        prev = next(it)
    except StopIteration:
        return
    for item in it:
        yield prev, False
        prev = item
    yield prev, True


class _Progress:
    """Maps a stage's own 0..1 onto the whole recording's 0..1 and never goes backwards."""

    def __init__(self, callback: ProgressFn | None, total_s: float | None):
        self.callback, self.total_s, self.last = callback, total_s, 0.0

    def report(self, position_s: float) -> None:
        if not self.callback:
            return
        frac = min(position_s / self.total_s, 0.999) if self.total_s else 0.0
        if frac >= self.last:
            self.last = frac
            self.callback(frac)


def _decode_pass(
    engine: WhisperEngine,
    audio: np.ndarray,
    offset: float,
    regions: list[Region],
    selected: list[int],
    language: str,
    beam_size: int | None,
    progress: Callable[[float], None] | None = None,
    temperatures: tuple[float, ...] = TEMPERATURES,
    reuse: EncoderReuse | None = None,
    detect: bool = False,
):
    """Decode the `selected` regions (indices into the block's `regions`) in one language;
    returns the raw segments and, per selected region, its words, whether it looped,
    (with `detect`, for a region alone in its window) Whisper's language probabilities, and
    (with `detect`) whether a window of it was decoded at beam 1, as evidence only."""
    end = offset + audio.size / SAMPLE_RATE
    packed = PackedSpeech(audio, offset, decode_spans(regions, selected, offset, end, WINDOW_S))

    def on_segment(packed_end: float) -> None:
        if progress:
            progress(packed.to_original(packed_end))

    # Windows cut at pauses, `batch_size` at a time (1: one after another), and the rest of
    # any window whose decode stopped early decoded again (batched_decode.py): Whisper's own
    # seek loop drops what follows a pause at the end of a window.
    speech = [
        (packed.to_packed(regions[i].start), packed.to_packed(regions[i].end)) for i in selected
    ]
    languages: list | None = [] if detect else None
    raw = decode_batched(
        engine, packed, speech, language, beam_size, temperatures, on_segment, reuse, languages
    )
    words, looped = words_by_region(packed, raw, [regions[i] for i in selected])
    detected: list[dict[str, float] | None] = [None] * len(selected)
    greedy = [False] * len(selected)
    for a, b, probs, beam_1 in languages or ():
        inside = [j for j, (start, _end) in enumerate(speech) if a <= start < b]
        if len(inside) == 1:  # the window's languages are this passage's own
            detected[inside[0]] = probs
        if beam_1:
            for j, (start, end) in enumerate(speech):
                greedy[j] |= start < b and a < end
    return raw, words, looped, detected, greedy


def _credible(raw: list, words: list, looped: bool) -> bool:
    """A decode that is no loop, not below Whisper's own log-probability gate (-1.0, what it
    falls back from) on the segments its words came from, and, where Whisper thinks there
    is no speech, made of words it supports."""
    if looped or not words:
        return False
    used = {seg_index for seg_index, _ in words}
    if max(raw[i].avg_logprob for i in used) < CREDIBLE_MIN_LOGPROB:
        return False
    if min(raw[i].no_speech_prob for i in used) > NO_SPEECH_GATE:
        mean_p = sum(w.probability for _, w in words) / len(words)
        return mean_p >= NO_SPEECH_MIN_WORD_PROB
    return True


def transcribe_regions(
    engine: WhisperEngine,
    audio: np.ndarray,
    offset: float,
    regions: list[Region],
    options: TranscribeOptions,
    progress: Callable[[float], None] | None = None,
    language_engines: dict[str, WhisperEngine] | None = None,
) -> list[Segment]:
    """Transcribe the speech `regions` of `audio` (which starts at `offset` s);
    `progress(t)` hears how far (s, recording clock) the first decode has come;
    `language_engines`: languages whose passages another model writes (the language is
    still chosen with `engine`)."""
    if not regions:
        return []
    allowed = [options.language] if options.language != "auto" else list(options.languages)
    primary = "ru" if "ru" in allowed else allowed[0]
    third = []
    if options.language == "auto":
        third = [c for c in options.third_languages if c not in allowed]

    # Per pass (a language, or a language decoded by its own model): raw segments of all
    # its decodes, and per region its words (with indices into those raw segments) and
    # whether they looped; which regions it decoded.
    raw_by_pass: dict[str, list] = {}
    words_by_pass: dict[str, list[list]] = {}
    looped_by_pass: dict[str, list[bool]] = {}
    decoded: dict[str, set[int]] = {}
    # With a choice to make, the same windows may be decoded in several languages: their
    # encoder outputs are kept for this block, and the first pass reads Whisper's detector
    # from them (a passage alone in its window needs no detector pass of its own).
    choosing = len(allowed) > 1 or bool(third)
    # A window whose detector does not give the first pass's language is decoded there at
    # beam 1: that decode is evidence only (its regions that stay in the language are decoded
    # again in full), so Kazakh speech costs a greedy Russian decode, not a beam search.
    reuse = EncoderReuse(evidence_below=lid.EVIDENCE_ONLY_BELOW) if choosing else None
    window_languages: list[dict[str, float] | None] = [None] * len(regions)
    evidence_only: set[int] = set()

    def decode(
        code: str,
        idx: list[int],
        report=None,
        temperatures=TEMPERATURES,
        by=engine,
        key=None,
        detect=False,
    ) -> None:
        key = key or code
        raw, words, looped, detected, greedy = _decode_pass(
            by,
            audio,
            offset,
            regions,
            idx,
            code,
            options.beam_size,
            report,
            temperatures,
            reuse if by is engine else None,
            detect,
        )
        if detect:
            for j, i in enumerate(idx):
                window_languages[i] = detected[j]
            evidence_only.update(i for j, i in enumerate(idx) if greedy[j])
        base = len(raw_by_pass.setdefault(key, []))
        raw_by_pass[key].extend(raw)
        words_by_pass.setdefault(key, [[] for _ in regions])
        looped_by_pass.setdefault(key, [False] * len(regions))
        decoded.setdefault(key, set()).update(idx)
        for j, i in enumerate(idx):
            words_by_pass[key][i] = [(base + k, w) for k, w in words[j]]
            looped_by_pass[key][i] = looped[j]

    # With a choice to make, the first pass is evidence first: greedy only, since falling
    # back to sampling on a loop (Kazakh decoded as Russian loops) costs time and says no
    # more. The regions that stay in this language and looped get the full ladder below.
    first = GREEDY_ONLY if choosing else TEMPERATURES
    decode(primary, list(range(len(regions))), progress, first, detect=choosing)
    chosen = [primary] * len(regions)
    sure = [True] * len(regions)
    evidence = [
        lid.russian_evidence([w for _, w in ws], looped)
        for ws, looped in zip(words_by_pass[primary], looped_by_pass[primary], strict=True)
    ]
    decoded[primary] -= evidence_only  # not its transcript: decoded in full where needed
    if choosing:
        # Settled by its own decode; a short one still follows its neighbours (two syllables
        # between two Kazakh, or English, passages are theirs).
        settled = [primary == "ru" and lid.settled_as_russian(ev) for ev in evidence]
        open_ = [i for i in range(len(regions)) if not settled[i]]
        for i in open_:
            evidence[i].detector = window_languages[i]
        # The detector for passages that shared their window: one encoder pass each over
        # the passage cut to its length, all at once (spread over the model's workers).
        unread = [i for i in open_ if evidence[i].detector is None]
        bounds = [
            (
                round((regions[i].start - offset) * SAMPLE_RATE),
                round((regions[i].end - offset) * SAMPLE_RATE),
            )
            for i in unread
        ]
        clips = [audio[a:b] for a, b in bounds]
        for i, probs in zip(unread, engine.detect_languages(clips), strict=True):
            evidence[i].detector = probs
        for i, ev in enumerate(evidence):
            if settled[i]:
                sure[i] = False
                continue
            chosen[i] = lid.choose(ev, allowed, third)
            sure[i] = lid.is_sure(ev, chosen[i])
        chosen = lid.smooth_short([(r.start, r.end) for r in regions], chosen, sure)
    for code in sorted(set(chosen) - {primary}):
        decode(code, [i for i, c in enumerate(chosen) if c == code])

    def credible(key: str, i: int) -> bool:
        return i in decoded.get(key, ()) and _credible(
            raw_by_pass[key], words_by_pass[key][i], looped_by_pass[key][i]
        )

    # A third language must also explain its passage credibly; else the set decides.
    retry = [i for i, c in enumerate(chosen) if c in third and not credible(c, i)]
    for i in retry:
        chosen[i] = lid.choose(evidence[i], allowed)
    for code in sorted({chosen[i] for i in retry}):
        missing = [i for i in retry if chosen[i] == code and i not in decoded.get(code, ())]
        if missing:
            decode(code, missing)

    # Regions left in the first pass's language whose greedy decode was not credible get
    # the full temperature ladder before anything is judged unsure; so do those it decoded
    # as evidence only.
    if choosing:
        redo = [
            i
            for i in range(len(regions))
            if chosen[i] == primary
            and (
                i in evidence_only
                or (
                    (words_by_pass[primary][i] or looped_by_pass[primary][i])
                    and not credible(primary, i)
                )
            )
        ]
        if redo:
            decode(primary, redo)

    # A passage its language decodes only as a loop or below Whisper's gate: another
    # allowed language that decodes it credibly explains it better; with none, it stays
    # without text and flagged, never as garbage.
    # (A region no decode put words in, nor looped in, is no speech: it stays empty,
    # unflagged. One whose only word was a loop of letters, cut out, is a loop.)
    unsure = [
        i
        for i in range(len(regions))
        if (words_by_pass[chosen[i]][i] or looped_by_pass[chosen[i]][i])
        and not credible(chosen[i], i)
    ]
    for code in allowed:
        missing = [i for i in unsure if i not in decoded.get(code, ())]
        if missing:
            # (the first pass's language is missing only where it decoded as evidence only:
            # it is decoded as that pass would have, greedy at the full beam; its ladder
            # would sample credible-looking text from the other language's speech)
            ladder = GREEDY_ONLY if code == primary else TEMPERATURES
            decode(code, missing, temperatures=ladder)
    empty: list[tuple[Region, str, bool]] = []  # (region, label, low confidence)
    flagged = set()

    def explains(code: str, i: int) -> bool:
        if not credible(code, i):
            return False
        words = [w for _, w in words_by_pass[code][i]]
        return lid.supports_switch(code, words, evidence[i].detector or {})

    for i in unsure:
        better = next((c for c in allowed if c != chosen[i] and explains(c, i)), None)
        if better:
            chosen[i] = better
        else:
            flagged.add(i)
            empty.append((regions[i], chosen[i], True))
    marked = set()  # in a third language the operator wants left without text
    if options.third_language_action == "mark":
        marked = {i for i, code in enumerate(chosen) if code in third}
        flagged |= marked
        empty += [(regions[i], OTHER_LANGUAGE, False) for i in sorted(marked)]

    # A language with a model of its own: that model writes its passages, those without
    # text included (it may read what the default could not); where its decode is not
    # credible, the default's text (or none) stays.
    pass_of = list(chosen)
    models: dict[str, str] = {}
    read = set()  # passages without text that their language's own model read
    for code, own in (language_engines or {}).items():
        idx = [i for i, c in enumerate(chosen) if c == code and i not in marked]
        if own is engine or not idx:
            continue
        key = f"{code}@{own.model_name}"
        decode(code, idx, by=own, key=key)
        models[key] = own.model_name
        for i in idx:
            if credible(key, i):
                pass_of[i] = key
                read.add(i)
    flagged -= read
    empty = [e for e in empty if not any(e[0] is regions[i] for i in read)]

    for region, code, ev in zip(regions, chosen, evidence, strict=True):
        region.language = code
        region.evidence = ev.as_dict()
    picked = [
        (chosen[i], pass_of[i], words_by_pass[pass_of[i]][i])
        for i in range(len(regions))
        if i not in flagged
    ]
    return segments_from_words(picked, raw_by_pass, empty, models)


class _SpeakerStage:
    """Optional diarization. A failure here never loses the transcript: the job completes
    without speakers and with a warning carrying the error's code."""

    def __init__(self, options: TranscribeOptions):
        self.options = options
        self.embedder = None
        self.local = None
        self.error: Exception | None = None
        if options.diarize:
            try:
                from kazru_stt.diarization import LocalSpeakers, SpeakerEmbedder

                self.embedder = SpeakerEmbedder()
                self.local = LocalSpeakers()
            except Exception as exc:
                self.error = exc

    def add(self, audio: np.ndarray, offset: float, regions: list[Region]) -> None:
        if self.embedder is None or self.error:
            return
        try:
            self.embedder.add(audio, offset, regions)
            self.local.add(audio, offset)
        except Exception as exc:
            self.error = exc

    def apply(self, transcript: Transcript) -> None:
        if not self.options.diarize:
            return
        if self.error is None and self.embedder is not None:
            try:
                from kazru_stt.diarization import SpeakerBounds, assign_speakers, find_turns

                o = self.options
                bounds = SpeakerBounds(o.num_speakers, o.min_speakers, o.max_speakers)
                labels, turns = find_turns(self.embedder, self.local, bounds)
                assign_speakers(transcript, turns, self.embedder.windows, labels)
                return
            except Exception as exc:
                self.error = exc
        log.warning("diarization failed: %r", self.error)
        for seg in transcript.segments:
            seg.speaker = None
        transcript.speakers = []
        transcript.warnings.append(
            {"code": "diarization_failed", "message": f"speakers not found: {self.error}"}
        )


def _transcribe_stream(
    blocks: Iterable[np.ndarray],
    options: TranscribeOptions,
    engine: WhisperEngine,
    report: Callable[[float], None],
    speakers: _SpeakerStage | None,
    language_engines: dict[str, WhisperEngine] | None,
) -> tuple[list[Segment], float]:
    """Segments of a mono stream of blocks, and its length (s)."""
    segments: list[Segment] = []
    buffer = np.zeros(0, dtype=np.float32)
    buffer_offset = 0.0
    decoded_samples = 0
    for block, is_last in _with_last(blocks):
        decoded_samples += block.size
        buffer = np.concatenate([buffer, block]) if buffer.size else block
        buffer_end = buffer_offset + buffer.size / SAMPLE_RATE
        regions = find_speech(buffer, buffer_offset)
        cut = buffer_end
        if not is_last and regions and buffer_end - regions[-1].end < _TAIL_MARGIN_S:
            cut = regions.pop().start
        segments.extend(
            transcribe_regions(
                engine, buffer, buffer_offset, regions, options, report, language_engines
            )
        )
        if speakers is not None:
            speakers.add(buffer, buffer_offset, regions)
        report(cut)
        buffer = buffer[int(round((cut - buffer_offset) * SAMPLE_RATE)) :]
        buffer_offset = cut
    return segments, decoded_samples / SAMPLE_RATE


def _one_party_per_channel(path, info, options: TranscribeOptions) -> bool:
    if info.channels < 2 or options.stereo == "mix":
        return False
    return options.stereo == "split" or is_split_call(path)


def transcribe_file(
    path: str | os.PathLike,
    options: TranscribeOptions,
    engine: WhisperEngine,
    progress: ProgressFn | None = None,
    language_engines: dict[str, WhisperEngine] | None = None,
) -> Transcript:
    """Transcribe one recording. Raises MediaError for unusable input.
    `language_engines`: languages whose passages another model writes."""
    options.validate(engine.supported_languages)
    info = probe(path)
    if _one_party_per_channel(path, info, options):
        transcript = _transcribe_call(path, info, options, engine, progress, language_engines)
    else:
        tracker = _Progress(progress, info.duration)
        speakers = _SpeakerStage(options)
        blocks = iter_audio(path, block_seconds=BLOCK_SECONDS, max_seconds=options.max_duration_s)
        segments, duration = _transcribe_stream(
            blocks, options, engine, tracker.report, speakers, language_engines
        )
        transcript = Transcript(
            duration=duration, segments=segments, engine=engine.name, model=engine.model_name
        )
        speakers.apply(transcript)
    for i, seg in enumerate(transcript.segments):
        seg.id = i
    if progress:
        progress(1.0)
    return transcript


def _transcribe_call(path, info, options, engine, progress, language_engines) -> Transcript:
    """Each party's channel on its own; the channel is the speaker (diarization within a
    channel would only split one party in two)."""
    total = info.duration
    tracker = _Progress(progress, 2 * total if total else None)
    segments: list[Segment] = []
    duration = 0.0
    for channel in (0, 1):
        label = f"SPEAKER_{channel + 1}"
        done = channel * (total or 0.0)
        blocks = party_blocks(path, channel, BLOCK_SECONDS, options.max_duration_s)
        party, duration = _transcribe_stream(
            blocks, options, engine, lambda t, d=done: tracker.report(d + t), None, language_engines
        )
        for seg in party:
            seg.speaker = label
            for w in seg.words:
                w.speaker = label
        segments += party
    segments.sort(key=lambda s: (s.start, s.speaker or ""))
    return Transcript(
        duration=duration,
        segments=segments,
        speakers=[Speaker(label) for label in sorted({s.speaker for s in segments})],
        engine=engine.name,
        model=engine.model_name,
    )
