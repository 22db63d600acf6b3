"""One block's speech regions -> segments: the language of each, and its text, in rounds.

Each round is a method over one table of decodes (`passes.Passes`), called in order by
`run`; the decoder is an argument, so every rule here is tested with a scripted one.

1. `first_pass`: every region decoded in the primary language (Russian when allowed),
   greedy when there is a choice to make; Whisper's detector read from each window's
   encoding for a region alone in its window; a window the detector does not give the
   primary language is decoded at beam 1, as evidence only (no transcript).
2. `choose_languages`: the detector for the regions that shared a window, read on their own
   audio; then `language.choose` per region, and `language.smooth_short` for short ones.
3. `decode_chosen`: each other chosen language decodes its regions.
4. `retry_third`: a third language must decode credibly, else the allowed set decides.
5. `redo_primary`: regions left in the primary language whose first decode is no
   transcript of them (evidence only, not credible, nothing heard, or decoded in one
   stretch with another language) are decoded again on their own, with the full ladder.
6. `mark_unsure`: a region with speech whose chosen decode is not credible keeps its
   language and gets no text (`low_confidence`): the language is never abstained on.
7. `mark_third` (operator's choice): third-language passages without text, `other`.
8. `own_models`: a language with a model of its own has that model write its passages.
9. `guard_loops`: the text finally chosen, across its decodes' segments and regions, keeps
   one copy of a repeated unit unless the audio really says it again.
"""

from __future__ import annotations

from collections.abc import Callable

from kazru_stt.domain.languages import OTHER_LANGUAGE, RUSSIAN
from kazru_stt.domain.transcript import Segment
from kazru_stt.engines.whisper import GREEDY_ONLY, TEMPERATURES
from kazru_stt.pipeline import guards
from kazru_stt.pipeline import language as lid
from kazru_stt.pipeline.assemble import segments_from_words
from kazru_stt.pipeline.guards import collapse_repeats
from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.pipeline.passes import Decoder, Passes
from kazru_stt.pipeline.speech_regions import MERGE_GAP_S, Region

# The longest unit of words the final guard looks for repeated: a whole sentence Whisper
# loops on ("Солимец в СБ." five times over, each copy a segment of its own).
LOOP_UNIT_WORDS = 12
# The first pass's share of the progress through a block when languages are chosen: the
# later rounds decode again at most every region (another language, not credible), usually
# far fewer; half each keeps the bar moving through both. (Not fitted: a display weight.)
FIRST_PASS_SHARE = 0.5


class LanguageRounds:
    def __init__(
        self,
        decoder: Decoder,
        regions: list[Region],
        options: TranscribeOptions,
        language_engines: dict | None = None,
    ):
        self.decoder, self.regions, self.options = decoder, regions, options
        self.language_engines = language_engines or {}
        self.allowed, self.third = options.allowed, options.outside
        self.primary = RUSSIAN if RUSSIAN in self.allowed else self.allowed[0]
        self.choosing = options.chooses_language
        n = len(regions)
        self.passes = Passes(n)
        self.chosen = [self.primary] * n
        self.detector: list[dict[str, float] | None] = [None] * n
        self.evidence_only: set[int] = set()
        self.flagged: set[int] = set()  # no text: unsure, or a third language marked
        self.labels: dict[int, tuple[str, bool]] = {}  # flagged: (label, low confidence)
        self.pass_of: list[str] = []  # per region, the pass its words come from
        self.models: dict[str, str] = {}  # pass -> the model that wrote it

    def run(self, progress: Callable[[float], None] | None = None) -> list[Segment]:
        """The rounds in order; `progress(t)` hears how far (s, recording clock) through
        these regions the work has come: the first pass over its share of their span, each
        later round a step after it (they decode again only some regions, but can take as
        long as the first pass did: a progress bar that reached the end after the first
        pass would sit there through all of them)."""
        if not self.regions:
            return []
        start, span = self.regions[0].start, self.regions[-1].end - self.regions[0].start
        first_share = FIRST_PASS_SHARE if self.choosing else 0.9

        def at(share: float) -> None:
            if progress:
                progress(start + share * span)

        def first(t: float) -> None:
            at(first_share * min(1.0, max(0.0, (t - start) / span)) if span > 0 else 0.0)

        self.first_pass(first if progress else None)
        at(first_share)
        later = (
            self.choose_languages if self.choosing else None,
            self.decode_chosen,
            self.retry_third,
            self.redo_primary,
        )
        for n, round_ in enumerate(later, start=1):
            if round_ is not None:
                round_()
            at(first_share + (1.0 - first_share) * n / len(later))
        self.mark_unsure()
        self.mark_third()
        self.own_models()
        self.guard_loops()
        return self.segments()

    def _decode(self, code: str, idx: list[int], temperatures=TEMPERATURES, **kw) -> None:
        key = kw.pop("key", code)
        self.passes.add(key, idx, self.decoder.decode(code, idx, temperatures, **kw))

    def _spans(self) -> list[tuple[float, float]]:
        return [(r.start, r.end) for r in self.regions]

    # --- the rounds, in order ---------------------------------------------------------

    def first_pass(self, progress=None) -> None:
        # With a choice to make, the first pass is evidence first: greedy only, since
        # falling back to sampling on a loop (Kazakh decoded as Russian loops) costs time and
        # says no more. The regions that stay in this language get the full ladder later.
        idx = list(range(len(self.regions)))
        temperatures = GREEDY_ONLY if self.choosing else TEMPERATURES
        result = self.decoder.decode(
            self.primary, idx, temperatures, detect=self.choosing, progress=progress
        )
        self.passes.add(self.primary, idx, result)
        if self.choosing:
            self.detector = list(result.detected)
            self.evidence_only = {i for i, e in zip(idx, result.evidence_only, strict=True) if e}
            # not its transcript: decoded in full where the region stays in this language
            self.passes.decoded[self.primary] -= self.evidence_only

    def choose_languages(self) -> None:
        unread = [i for i, probs in enumerate(self.detector) if probs is None]
        for i, probs in zip(unread, self.decoder.detect(unread), strict=True):
            self.detector[i] = probs
        spans = self._spans()
        self.chosen = [
            lid.choose(probs or {}, self.allowed, self.third, end - start)
            for probs, (start, end) in zip(self.detector, spans, strict=True)
        ]
        self.chosen = lid.smooth_short(spans, self.chosen, [p or {} for p in self.detector])

    def decode_chosen(self) -> None:
        for code in sorted(set(self.chosen) - {self.primary}):
            self._decode(code, [i for i, c in enumerate(self.chosen) if c == code])

    def retry_third(self) -> None:
        retry = [
            i
            for i, c in enumerate(self.chosen)
            if c in self.third and not self.passes.credible(c, i)
        ]
        for i in retry:
            self.chosen[i] = lid.choose(self.detector[i] or {}, self.allowed)
        for code in sorted({self.chosen[i] for i in retry}):
            missing = [i for i in retry if self.chosen[i] == code and not self.passes.has(code, i)]
            if missing:
                # The first pass's language decodes here as that pass would have (greedy,
                # full beam); its ladder would sample credible-looking text from other speech.
                ladder = GREEDY_ONLY if code == self.primary else TEMPERATURES
                self._decode(code, missing, ladder)

    def redo_primary(self) -> None:
        """Regions left in the first pass's language are decoded again on their own, with
        the full ladder, where that pass is no transcript of them: decoded as evidence only,
        not credible (a loop, below the gate, or nothing heard: Whisper's greedy decode of
        a Kazakh phrase stops early and drops the Russian sentence after it), or decoded in
        one stretch with a neighbour of another language (decode_spans merges regions
        closer than MERGE_GAP_S)."""
        if not self.choosing:
            return
        p = self.primary
        redo = [
            i
            for i, c in enumerate(self.chosen)
            if c == p
            and (i in self.evidence_only or not self.passes.credible(p, i) or self._mixed(i))
        ]
        if not redo:
            return
        # A credible first decode stays where the one on its own is not (or hears nothing).
        kept = {
            i: (self.passes.words[p][i], self.passes.looped[p][i])
            for i in redo
            if self.passes.credible(p, i)
        }
        self._decode(p, redo)
        for i, (words, looped) in kept.items():
            if not self.passes.credible(p, i):
                self.passes.words[p][i], self.passes.looped[p][i] = words, looped

    def _mixed(self, i: int) -> bool:
        r = self.regions
        return any(
            0 <= j < len(r)
            and self.chosen[j] != self.chosen[i]
            and r[max(i, j)].start - r[min(i, j)].end < MERGE_GAP_S
            for j in (i - 1, i + 1)
        )

    def mark_unsure(self) -> None:
        # A region that some decode heard (words, or a loop cut out) is speech; where its
        # language decodes it only as a loop or below Whisper's gate, it has no text, never
        # garbage, and keeps its language. (A region no decode heard is no speech.)
        for i, code in enumerate(self.chosen):
            if not self.passes.credible(code, i) and self.passes.spoke_anywhere(i):
                self.flagged.add(i)
                self.labels[i] = (code, True)

    def mark_third(self) -> None:
        if self.options.third_language_action != "mark":
            return
        for i, code in enumerate(self.chosen):
            if code in self.third:
                self.flagged.add(i)
                self.labels[i] = (OTHER_LANGUAGE, False)

    def own_models(self) -> None:
        # A language with a model of its own: that model writes its passages, those without
        # text included (it may read what the default could not); where its decode is not
        # credible, the default's text (or none) stays.
        self.pass_of = list(self.chosen)
        marked = {i for i, (_label, unsure) in self.labels.items() if not unsure}
        for code, own in self.language_engines.items():
            idx = [i for i, c in enumerate(self.chosen) if c == code and i not in marked]
            if own is getattr(self.decoder, "engine", None) or not idx:
                continue
            key = f"{code}@{own.model_name}"
            self._decode(code, idx, key=key, model=own)
            self.models[key] = own.model_name
            for i in idx:
                if self.passes.credible(key, i):
                    self.pass_of[i] = key
                    self.flagged.discard(i)
                    self.labels.pop(i, None)

    def guard_loops(self) -> None:
        """The words finally chosen, in order across regions, lose repeated units the
        audio does not really repeat (a loop spread over segments or regions, which the
        per-segment guard cannot see); a region left without words is unsure. Where an
        earlier decode of a copy's region in the same language looped, the copies are a
        loop whatever their timing."""
        items = [
            (i, word)
            for i in range(len(self.regions))
            if i not in self.flagged
            for _seg, word in self.passes.words[self.pass_of[i]][i]
        ]
        region_of = {id(w): i for i, w in items}
        looped = {
            i
            for i in range(len(self.regions))
            for key in {self.chosen[i], self.pass_of[i]}
            if i in self.passes.ever_looped.get(key, ())
        }

        def really_spoken(copies: list[list]) -> bool:
            if any(region_of[id(w)] in looped for copy in copies for w in copy):
                return False
            return guards.really_spoken(copies)

        words = [w for _, w in items]
        kept = collapse_repeats(words, max_unit=LOOP_UNIT_WORDS, spoken=really_spoken)
        if len(kept) == len(words):
            return
        kept_ids = {id(w) for w in kept}
        for i, w in items:
            if id(w) in kept_ids:
                continue
            key = self.pass_of[i]
            self.passes.words[key][i] = [(s, x) for s, x in self.passes.words[key][i] if x is not w]
            if not self.passes.words[key][i]:
                self.flagged.add(i)
                self.labels[i] = (self.chosen[i], True)

    # --- the result -------------------------------------------------------------------

    def segments(self) -> list[Segment]:
        picked = [
            (self.chosen[i], self.pass_of[i], self.passes.words[self.pass_of[i]][i])
            for i in range(len(self.regions))
            if i not in self.flagged
        ]
        empty = [(self.regions[i], *self.labels[i]) for i in sorted(self.flagged)]
        return segments_from_words(picked, self.passes.raw, empty, self.models)
