"""Turn the engine's decodes of packed speech into transcript segments on the recording's clock."""

from __future__ import annotations

from collections.abc import Sequence

from kazru_stt.domain.transcript import Segment, Word
from kazru_stt.engines.whisper import RawSegment
from kazru_stt.pipeline.guards import (
    MIN_WORD_S,
    clean_text,
    collapse_repeats,
    is_letter_loop,
    looks_invented,
)
from kazru_stt.pipeline.speech_regions import PackedSpeech, Region, nearest_region


def words_by_region(packed: PackedSpeech, raw: list[RawSegment], regions: list[Region]):
    """Map every decoded word back to the recording and to the region it was spoken in.

    Returns, per region, a list of (segment_index, Word), and per region whether a loop
    was cut out of its words (evidence that the language did not fit); segments that look
    invented (Whisper's no-speech rule) are dropped here.
    """
    per_region: list[list[tuple[int, Word]]] = [[] for _ in regions]
    looped = [False] * len(regions)
    for seg_index, seg in enumerate(raw):
        if looks_invented(seg.avg_logprob, seg.no_speech_prob):
            continue
        spoken = [w for w in seg.words if clean_text(w.text).strip()]
        cleaned = [w for w in spoken if not is_letter_loop(w.text)]
        kept = collapse_repeats(cleaned)
        if len(kept) < len(spoken):
            middle = spoken[len(spoken) // 2]
            at = packed.to_original(middle.start, packed.span_index(middle.start))
            looped[nearest_region(regions, at)] = True
        for w in kept:
            span = packed.span_index((w.start + w.end) / 2)
            start = packed.to_original(w.start, span)
            end = packed.to_original(w.end, span)
            i = nearest_region(regions, (start + end) / 2)
            # Whisper stretches a first word back into the silence before it; the VAD
            # region (already padded) bounds where speech can be.
            lo, hi = regions[i].start, regions[i].end
            start = min(max(start, lo), hi)
            end = min(max(end, start + MIN_WORD_S), hi)
            start = max(lo, min(start, end - MIN_WORD_S))
            word = Word(start, end, clean_text(w.text), w.probability)
            per_region[i].append((seg_index, word))
    return per_region, looped


def segments_from_words(
    picked: list[tuple[str, str, list[tuple[int, Word]]]],
    raw_by_pass: dict[str, list[RawSegment]],
    empty: Sequence[tuple[Region, str, bool]] = (),
    models: dict[str, str] | None = None,
) -> list[Segment]:
    """Build segments: words of one decoded segment, in one region's language, stay together.

    `picked` holds (language, pass, words-with-segment-index) for each region in order,
    the pass naming the decode in `raw_by_pass` the words came from; `models`: the passes
    another model than the transcript's decoded (its name goes on their segments);
    `empty` the regions that get a segment without text, each with its label and whether
    it is there because no language decoded it credibly (`low_confidence`: never garbage).
    """
    models = models or {}
    runs: list[tuple[str, str, int, list[Word]]] = []
    for language, pass_key, items in picked:
        for seg_index, word in items:
            if runs and runs[-1][:3] == (language, pass_key, seg_index):
                runs[-1][3].append(word)
            else:
                runs.append((language, pass_key, seg_index, [word]))
    segments = []
    for language, pass_key, seg_index, words in runs:
        text = "".join(w.text for w in words).strip()
        if not text:
            continue
        for w in words:
            w.text = w.text.strip()
        raw = raw_by_pass[pass_key][seg_index]
        segments.append(
            Segment(
                id=0,
                start=words[0].start,
                end=words[-1].end,
                text=text,
                language=language,
                words=words,
                avg_logprob=raw.avg_logprob,
                model=models.get(pass_key),
            )
        )
    segments += [
        Segment(id=0, start=r.start, end=r.end, text="", language=lang, low_confidence=unsure)
        for r, lang, unsure in empty
    ]
    segments.sort(key=lambda s: s.start)
    return segments
