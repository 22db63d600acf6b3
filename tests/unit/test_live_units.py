"""The live session's pieces that need no model: which words two decodes agree on, PCM16 in
pieces converted as one stream, and what a finished utterance reports."""

from __future__ import annotations

import numpy as np
import pytest

from kazru_stt.domain.transcript import Segment, Word
from kazru_stt.media.pcm import PcmStream
from kazru_stt.pipeline.live import Completed, agreed_prefix


def test_agreement_is_the_leading_words_alike_but_for_case_and_punctuation():
    assert agreed_prefix([], ["шестьдесят"]) == 0
    assert agreed_prefix(["В", "60", "тысяч"], ["в", "60", "тысяч,", "тенге"]) == 3
    assert agreed_prefix(["в", "60", "тысяч"], ["в", "16", "тысяч"]) == 1
    assert agreed_prefix(["Сәлем,", "қалың"], ["сәлем", "қалың", "қалай"]) == 2


def _pcm(audio: np.ndarray) -> bytes:
    return (audio * 32767).astype("<i2").tobytes()


@pytest.mark.parametrize("rate", [16000, 24000])
def test_pcm_in_uneven_pieces_is_one_stream_at_16_khz(rate):
    t = np.arange(rate * 2) / rate
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    data = _pcm(tone)
    whole = PcmStream(rate).convert(data)
    stream = PcmStream(rate)
    cuts = [0, 1, 4801, 9600, 9601, 33333, len(data)]  # odd lengths split a sample in two
    pieces = [stream.convert(data[a:b]) for a, b in zip(cuts, cuts[1:], strict=False)]
    joined = np.concatenate(pieces)
    assert joined.dtype == np.float32
    # Two seconds in, two seconds out (the resampler holds back a few samples at most).
    assert abs(joined.size - 32000) <= 64
    n = min(joined.size, whole.size)
    assert np.max(np.abs(joined[:n] - whole[:n])) < 1e-3
    assert 0.45 < np.max(np.abs(joined)) < 0.55


def test_a_finished_utterance_reports_the_language_of_most_of_its_speech():
    words = [Word(0.0, 0.4, "сәлем", 0.9), Word(0.5, 0.9, "досым", 0.7)]
    done = Completed(
        3,
        0.0,
        4.0,
        [
            Segment(0, 0.0, 1.0, "сәлем досым", language="kk", words=words),
            Segment(1, 1.2, 3.9, "как дела у тебя", language="ru"),
        ],
    )
    assert done.language == "ru"  # 2.7 s of Russian against 1 s of Kazakh
    assert done.text == "сәлем досым как дела у тебя"
    assert done.confidence == pytest.approx(0.8)
    assert Completed(4, 5.0, 5.5).to_dict()["language"] is None
