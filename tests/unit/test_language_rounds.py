"""The language rounds and rules, each driven by a scripted decoder (no Whisper): seconds."""

from __future__ import annotations

import pytest

from kazru_stt.domain.transcript import Word
from kazru_stt.engines.whisper import GREEDY_ONLY, TEMPERATURES, RawSegment, RawWord
from kazru_stt.pipeline import language as lid
from kazru_stt.pipeline.language_rounds import LanguageRounds
from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.pipeline.passes import PassResult
from kazru_stt.pipeline.speech_regions import Region

LOOP = "LOOP"  # a decode whose words the loop guard cut out


class ScriptedDecoder:
    """Answers each decode from a script: per (pass, region) a text with its log-probability
    (or LOOP; missing: nothing heard); the detector per region, read from the window for a
    region alone in its window (`alone`) and from its own audio otherwise."""

    def __init__(self, regions, detector, script, alone=()):
        self.regions, self.detector, self.script = regions, detector, script
        self.alone = set(alone)
        self.calls: list[tuple[str, tuple[int, ...], tuple[float, ...]]] = []
        self.detected_on: list[int] = []

    def decode(self, language, selected, temperatures=TEMPERATURES, *, model=None, **kw):
        key = f"{language}@{model.model_name}" if model else language
        self.calls.append((key, tuple(selected), temperatures))
        raw, words, looped = [], [], []
        for i in selected:
            entry = self.script.get((key, i))
            if isinstance(entry, list):  # one answer per decode, in turn
                entry = entry.pop(0) if len(entry) > 1 else entry[0]
            if entry is None or entry == LOOP:
                words.append([])
                looped.append(entry == LOOP)
                continue
            text, logprob = entry
            r = self.regions[i]
            tokens = text.split()
            step = (r.end - r.start) / len(tokens)
            # One raw segment per sentence (". " ends one), as Whisper emits them.
            region_words = []
            for k, token in enumerate(tokens):
                if k == 0 or tokens[k - 1].endswith("."):
                    raw.append(RawSegment(r.start, r.end, "", logprob, 0.05, 1.2, 0.0))
                a = r.start + k * step
                word = RawWord(a, a + step, " " + token, 0.9 if logprob > -1 else 0.2)
                raw[-1].words.append(word)
                region_words.append((len(raw) - 1, Word(a, a + step, word.text, word.probability)))
            words.append(region_words)
            looped.append(False)
        detected, evidence_only = [], []
        if kw.get("detect"):
            detected = [self.detector[i] if i in self.alone else None for i in selected]
            evidence_only = [
                i in self.alone and self.detector[i].get(language, 0) < lid.EVIDENCE_ONLY_BELOW
                for i in selected
            ]
        return PassResult(raw, words, looped, detected, evidence_only)

    def detect(self, selected):
        self.detected_on += selected
        return [self.detector[i] for i in selected]


def run(spans, detector, script, options=None, alone=(), engines=None):
    regions = [Region(a, b) for a, b in spans]
    decoder = ScriptedDecoder(regions, detector, script, alone)
    rounds = LanguageRounds(decoder, regions, options or TranscribeOptions(), engines)
    return rounds.run(), decoder


RU = {"ru": 0.9, "uk": 0.05}
KK = {"tr": 0.4, "ru": 0.2, "kk": 0.01}
EN = {"en": 0.95, "ru": 0.01}


def test_the_rule_is_the_detector_with_a_russian_prior():
    allowed = ["kk", "ru"]
    assert lid.choose({"ru": 0.40}, allowed) == "ru"
    assert lid.choose({"ru": 0.39, "lt": 0.5}, allowed) == "kk"
    # Nothing read at all is still a language: the set's default, Kazakh.
    assert lid.choose({}, allowed) == "kk"
    # Another allowed language needs even odds; Russian-less sets keep to themselves.
    assert lid.choose({"en": 0.6, "ru": 0.1}, ["kk", "ru", "en"]) == "en"
    assert lid.choose({"en": 0.3, "ru": 0.1}, ["kk", "ru", "en"]) == "kk"
    assert lid.choose({"uk": 0.3, "ru": 0.1}, ["ru", "uk"]) == "uk"
    assert lid.choose({"de": 0.3, "fr": 0.2}, ["en", "fr"]) == "fr"


def test_a_third_language_only_for_a_long_passage():
    allowed, third = ["kk", "ru"], ["en"]
    assert lid.choose(EN, allowed, third, seconds=6.0) == "en"
    assert lid.choose({"en": 0.6, "de": 0.3}, allowed, third, seconds=6.0) == "en"
    # "сау бол" heard as "so ball": short, so Kazakh whatever the detector says.
    assert lid.choose(EN, allowed, third, seconds=1.2) == "kk"
    assert lid.choose({"en": 0.4, "de": 0.5}, allowed, third, seconds=6.0) == "kk"


def test_decided_evidence_is_symmetric_around_the_prior():
    assert lid.DECIDED_FOR == pytest.approx(0.5)
    assert lid.DECIDED_AGAINST == pytest.approx(0.308, abs=0.001)
    assert lid.holds_against({"ru": 0.55}, "ru", "kk")
    assert not lid.holds_against({"ru": 0.45}, "ru", "kk")
    assert lid.holds_against({"ru": 0.05}, "kk", "ru")
    assert not lid.holds_against({"ru": 0.35}, "kk", "ru")
    # Not Russian is no evidence against English: Kazakh holds against English only
    # where English is ruled out too.
    assert not lid.holds_against({"ru": 0.01, "en": 0.5}, "kk", "en")
    assert lid.holds_against({"ru": 0.01, "en": 0.05}, "kk", "en")


WEAK_KK, STRONG_KK = {"ru": 0.35, "en": 0.35}, {"ru": 0.05, "en": 0.05}
WEAK_RU, STRONG_RU = {"ru": 0.45}, {"ru": 0.9}


def test_a_short_passage_takes_its_neighbours_language_unless_decidedly_its_own():
    spans = [(0, 5), (5.5, 6.5), (7, 12)]
    assert lid.smooth_short(spans, ["ru", "kk", "ru"], [RU, WEAK_KK, RU])[1] == "ru"
    assert lid.smooth_short(spans, ["kk", "ru", "kk"], [KK, WEAK_RU, KK])[1] == "kk"
    assert lid.smooth_short(spans, ["en", "kk", "en"], [EN, STRONG_KK, EN])[1] == "kk"
    assert lid.smooth_short(spans, ["en", "kk", "en"], [EN, WEAK_KK, EN])[1] == "en"
    # Decided own evidence stays, in both directions ("иә, дұрыс" among Russian).
    assert lid.smooth_short(spans, ["ru", "kk", "ru"], [RU, STRONG_KK, RU])[1] == "kk"
    assert lid.smooth_short(spans, ["kk", "ru", "kk"], [KK, STRONG_RU, KK])[1] == "ru"
    # Neighbours that disagree, or too far, or a passage long enough: its own.
    mixed = lid.smooth_short(spans, ["ru", "kk", "kk"], [RU, WEAK_KK, KK])
    assert mixed == ["ru", "kk", "kk"]
    far = [(0, 5), (9, 10), (14, 18)]
    assert lid.smooth_short(far, ["ru", "kk", "ru"], [RU, WEAK_KK, RU])[1] == "kk"
    long_ = [(0, 5), (5.5, 8.5), (9, 12)]
    assert lid.smooth_short(long_, ["ru", "kk", "ru"], [RU, WEAK_KK, RU])[1] == "kk"


def test_a_short_passage_at_either_end_keeps_its_own_language():
    # A Kazakh phrase, a Russian sentence, a Kazakh phrase: no passage has one language on
    # both sides, so each keeps what the detector says.
    spans = [(0, 1.5), (2, 7), (7.5, 9)]
    kept = lid.smooth_short(spans, ["kk", "ru", "kk"], [WEAK_KK, RU, WEAK_KK])
    assert kept == ["kk", "ru", "kk"]
    assert lid.smooth_short([(0, 1)], ["kk"], [WEAK_KK]) == ["kk"]


def test_rounds_kk_ru_kk_in_order_each_in_its_language():
    spans = [(0, 1.5), (2, 7), (7.5, 9)]
    script = {
        ("ru", 0): ("Жахса рахмет.", -0.5),  # what a Russian decode makes of "жақсы рахмет"
        ("ru", 1): ("Включи свет на кухне.", -0.2),
        ("ru", 2): ("А ты не с кем?", -0.4),
        ("kk", 0): ("жақсы рахмет", -0.6),
        ("kk", 2): ("әке шешең", -0.7),
    }
    segments, decoder = run(spans, [KK, RU, KK], script)
    assert [(s.language, s.text) for s in segments] == [
        ("kk", "жақсы рахмет"),
        ("ru", "Включи свет на кухне."),
        ("kk", "әке шешең"),
    ]
    # The first pass is greedy and reads the detector; those that shared a window get
    # their own read; the Kazakh passages are decoded once, in Kazakh.
    assert decoder.calls[0] == ("ru", (0, 1, 2), GREEDY_ONLY)
    assert decoder.detected_on == [0, 1, 2]
    assert ("kk", (0, 2), TEMPERATURES) in decoder.calls


def test_a_russian_sentence_the_first_pass_dropped_is_decoded_on_its_own():
    # Greedy Russian over a Kazakh phrase, a Russian sentence and a Kazakh phrase in one
    # stretch stopped after the phrase: nothing heard in the sentence. Chosen Russian by
    # the detector, it is decoded again without its Kazakh neighbours.
    spans = [(0, 1.2), (1.7, 4.3), (4.8, 7.1)]
    script = {
        ("ru", 0): ("Иркстин.", -0.6),
        ("ru", 1): [None, ("Это была ошибка.", -0.2)],
        ("kk", 0): ("еркесін", -0.6),
        ("kk", 2): ("бәрі жақсы", -0.6),
    }
    segments, decoder = run(spans, [KK, RU, KK], script)
    assert [(s.language, s.text) for s in segments] == [
        ("kk", "еркесін"),
        ("ru", "Это была ошибка."),
        ("kk", "бәрі жақсы"),
    ]
    assert ("ru", (1,), TEMPERATURES) in decoder.calls


def test_a_credible_first_decode_stays_where_the_one_on_its_own_is_not():
    # Decoded in one stretch with its Kazakh neighbour, the Russian passage is decoded
    # again on its own; that decode loops, so the first one stays its text.
    spans = [(0, 1.2), (1.7, 4.3)]
    script = {
        ("ru", 0): ("Иркстин.", -0.6),
        ("ru", 1): [("Это была ошибка.", -0.3), LOOP],
        ("kk", 0): ("еркесін", -0.6),
    }
    segments, decoder = run(spans, [KK, RU], script)
    assert [(s.language, s.text) for s in segments] == [
        ("kk", "еркесін"),
        ("ru", "Это была ошибка."),
    ]
    assert ("ru", (1,), TEMPERATURES) in decoder.calls


def test_a_confident_russian_decode_does_not_make_kazakh_russian():
    # "алма": the Russian decode is a confident dictionary word; the detector says not
    # Russian, so the passage is Kazakh (decodes are not language evidence).
    segments, _ = run([(0, 0.8)], [KK], {("ru", 0): ("Алмаз.", -0.1), ("kk", 0): ("алма", -0.5)})
    assert [(s.language, s.text) for s in segments] == [("kk", "алма")]


def test_an_unreadable_passage_keeps_its_language_and_has_no_text():
    segments, _ = run([(0, 2)], [KK], {("ru", 0): ("Мисик.", -0.3), ("kk", 0): LOOP})
    [seg] = segments
    assert (seg.language, seg.text, seg.low_confidence) == ("kk", "", True)
    # Nothing heard by any decode: no speech, no segment.
    segments, _ = run([(0, 2)], [KK], {})
    assert segments == []


def test_a_short_word_between_russian_sentences_is_russian_unless_decidedly_kazakh():
    spans = [(0, 5), (5.5, 6.3), (6.8, 12)]
    script = {
        ("ru", 0): ("Мы обсудили договор.", -0.2),
        ("ru", 1): ("Короче.", -0.3),
        ("ru", 2): ("Подпишем завтра.", -0.2),
        ("kk", 1): ("қысқасы", -0.5),
    }
    weak = {"ru": 0.35, "tr": 0.3}
    segments, _ = run(spans, [RU, weak, RU], script)
    assert [s.language for s in segments] == ["ru", "ru", "ru"]
    assert segments[1].text == "Короче."
    strong = {"ru": 0.05, "tr": 0.6}  # "иә, дұрыс": the detector has decided: not Russian
    segments, _ = run(spans, [RU, strong, RU], script)
    assert [s.language for s in segments] == ["ru", "kk", "ru"]
    assert segments[1].text == "қысқасы"


def test_english_needs_a_credible_english_decode_else_the_set_decides():
    spans = [(0, 6)]
    segments, _ = run(spans, [EN], {("en", 0): ("ask not what your country", -0.3)})
    assert [(s.language, s.text) for s in segments] == [("en", "ask not what your country")]
    # English the English decode cannot explain: Kazakh (the set's default), decoded so.
    segments, decoder = run(spans, [EN], {("en", 0): LOOP, ("kk", 0): ("сәлем", -0.6)})
    assert [(s.language, s.text) for s in segments] == [("kk", "сәлем")]
    # The operator may want third languages left without text.
    marked = TranscribeOptions(third_language_action="mark")
    segments, _ = run(spans, [EN], {("en", 0): ("ask not", -0.3)}, marked)
    assert [(s.language, s.text, s.low_confidence) for s in segments] == [("other", "", False)]


def test_russian_decoded_as_evidence_only_is_decoded_again_in_full():
    # Alone in its window, the detector over the prior: decoded once, as its transcript.
    segments, decoder = run([(0, 4)], [RU], {("ru", 0): ("Привет, Олег!", -0.2)}, alone=[0])
    assert [c[0] for c in decoder.calls] == ["ru"] and segments[0].language == "ru"
    # A short word alone in its window the detector did not call Russian was decoded at
    # beam 1 as evidence only; its Russian neighbours make it Russian, so it is decoded
    # again with the full ladder and that decode is its text.
    spans = [(0, 5), (5.5, 6.3), (6.8, 12)]
    script = {(key, i): ("Да.", -0.3) for key in ("ru",) for i in range(3)}
    segments, decoder = run(spans, [RU, {"ru": 0.35}, RU], script, alone=[1])
    assert decoder.calls[1] == ("ru", (1,), TEMPERATURES)
    assert [s.language for s in segments] == ["ru", "ru", "ru"]
    # A Russian region whose greedy decode looped gets the full ladder.
    segments, decoder = run([(0, 4)], [RU], {("ru", 0): LOOP})
    assert decoder.calls[1] == ("ru", (0,), TEMPERATURES)
    assert segments[0].low_confidence and segments[0].language == "ru"


def test_a_forced_language_reads_no_detector():
    options = TranscribeOptions(language="kk")
    segments, decoder = run([(0, 3)], [RU], {("kk", 0): ("сәлем", -0.5)}, options)
    assert [(s.language, s.text) for s in segments] == [("kk", "сәлем")]
    assert decoder.detected_on == [] and decoder.calls == [("kk", (0,), TEMPERATURES)]


def test_a_loop_spread_over_segments_keeps_one_copy():
    # The greedy decode looped; the full ladder then wrote "Солимец в СБ." five times, each
    # copy a segment of its own (the per-segment guard sees one copy each) and timed like
    # speech: the region's own loop says it is one.
    text = " ".join(["Солимец в СБ."] * 5)
    segments, _ = run([(0, 10)], [RU], {("ru", 0): [LOOP, (text, -0.4)]})
    assert " ".join(s.text for s in segments) == "Солимец в СБ."


def test_a_loop_over_several_regions_keeps_one_copy_and_flags_the_emptied():
    spans = [(0, 2), (2.6, 4.6), (5.2, 7.2)]
    script = {("ru", i): ("Я не знаю что у меня есть.", -0.4) for i in range(3)}
    script[("ru", 1)] = [LOOP, script[("ru", 1)]]
    segments, _ = run(spans, [RU, RU, RU], script)
    assert [s.text for s in segments] == ["Я не знаю что у меня есть.", "", ""]
    assert [s.low_confidence for s in segments] == [False, True, True]
    assert {s.language for s in segments} == {"ru"}


def test_a_phrase_really_said_three_times_is_kept():
    spans = [(0, 1.2), (1.6, 2.8), (3.2, 4.4)]
    script = {("ru", i): ("Привет, Олег!", -0.2) for i in range(3)}
    segments, _ = run(spans, [RU, RU, RU], script)
    assert [s.text for s in segments] == ["Привет, Олег!"] * 3


class _OwnModel:
    model_name = "kk-large"


def test_a_language_with_its_own_model_has_it_write_its_passages():
    spans = [(0, 3), (3.5, 8)]
    script = {
        ("ru", 0): ("Калай.", -0.6),
        ("ru", 1): ("Добрый вечер.", -0.2),
        ("kk", 0): LOOP,
        ("kk@kk-large", 0): ("қалайсыз", -0.3),
    }
    segments, decoder = run(spans, [KK, RU], script, engines={"kk": _OwnModel()})
    assert [(s.language, s.text, s.model) for s in segments] == [
        ("kk", "қалайсыз", "kk-large"),
        ("ru", "Добрый вечер.", None),
    ]


def test_progress_moves_through_every_round_and_never_back():
    """The first pass takes half the block's progress, the later rounds the rest: a block
    whose languages are chosen does not read as done once the first pass has run."""
    spans = [(0.0, 4.0), (5.0, 9.0), (10.0, 14.0)]
    script = {("ru", 0): ("привет мир", -0.2), ("ru", 2): ("как дела", -0.2)}
    script[("kk", 1)] = ("сәлем әлем", -0.2)
    regions = [Region(a, b) for a, b in spans]
    decoder = ScriptedDecoder(regions, {0: RU, 1: KK, 2: RU}, script, alone=(0, 1, 2))
    heard: list[tuple[float, int]] = []
    rounds = LanguageRounds(decoder, regions, TranscribeOptions())
    rounds.run(lambda t: heard.append((t, len(decoder.calls))))
    times = [t for t, _ in heard]
    assert times == sorted(times) and times[-1] == 14.0
    # Before the Kazakh passage's own decode (the second call) the progress is short of the
    # end: the first pass took half of it, choosing the languages a step more.
    assert max(t for t, calls in heard if calls <= 1) <= 7.0 + 14.0 / 8
    assert heard[-1][1] >= 2
