"""A steady tone is not speech, though the voice detector takes a 150-220 Hz one for a
voice (and Whisper then writes words for it)."""

import numpy as np
import pytest
from faster_whisper.vad import get_speech_timestamps

from kazru_stt.media import SAMPLE_RATE, load_audio
from kazru_stt.pipeline.speech_regions import VAD_OPTIONS, find_speech


def _tone(freqs, seconds=0.5):
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.3 * sum(np.sin(2 * np.pi * f * t) for f in freqs)).astype(np.float32)


@pytest.mark.parametrize("freqs", [(220,), (150,), (350, 440)])
def test_a_tone_the_detector_hears_as_a_voice_is_no_speech(freqs):
    tone = _tone(freqs)
    if freqs == (220,):
        assert get_speech_timestamps(tone, VAD_OPTIONS)  # the detector alone is fooled
    assert find_speech(tone) == []


def test_speech_with_a_tone_before_it_keeps_its_speech(eval_dir):
    speech = load_audio(eval_dir / "ru" / "vosk_commands.wav")
    gap = np.zeros(SAMPLE_RATE, np.float32)
    audio = np.concatenate([_tone((220,)), gap, speech])
    regions = find_speech(audio)
    assert regions and regions[0].start > 1.0  # the tone's half second is left out
    assert sum(r.end - r.start for r in regions) == pytest.approx(
        sum(r.end - r.start for r in find_speech(speech)), abs=0.1
    )
