"""Tones the voice detector lets through, against speech (`speech_regions.STEADY_SOUND`).

Silero takes a 150-220 Hz tone for a voice, and Whisper then writes words for it (a 0.5 s
tone came out as "өрі өрі"). `find_speech` leaves out a region whose spectrum hardly changes.
This prints the steadiness of:

- every speech region the detector finds in the eval recordings, as they are, through a
  telephone band (300-3400 Hz at 8 kHz and back), and mixed with white noise, pink noise and
  50 Hz mains hum (seven harmonics) at 10, 5, 0 and -5 dB speech-to-noise;
- tones a recording may hold (150, 220, 425 Hz sine, a 220 Hz sawtooth, a 350+440 Hz dial
  tone, a DTMF pair), clean and with white noise 10 and 5 dB below them, full band and
  through the telephone band;

and how many of each side a threshold would misjudge. Nothing here is fitted to the speech:
the threshold sits between the two sides with room on each.

    .venv/bin/python benchmarks/steady_tones.py
"""

from __future__ import annotations

import numpy as np
from faster_whisper.vad import get_speech_timestamps
from scipy.signal import butter, resample_poly, sosfilt

from common import EVAL_DIR
from kazru_stt.media import SAMPLE_RATE
from kazru_stt.media.decode import load_audio
from kazru_stt.pipeline.speech_regions import STEADY_SOUND, VAD_OPTIONS, steadiness

RNG = np.random.default_rng(7)
BAND = butter(6, [300, 3400], btype="band", fs=SAMPLE_RATE, output="sos")


def telephone(x: np.ndarray) -> np.ndarray:
    return resample_poly(resample_poly(sosfilt(BAND, x), 1, 2), 2, 1)


def pink(n: int) -> np.ndarray:
    spectrum = np.fft.rfft(RNG.standard_normal(n))
    f = np.arange(spectrum.size, dtype=float)
    f[0] = 1.0
    return np.fft.irfft(spectrum / np.sqrt(f), n)


def hum(n: int) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    return sum(np.sin(2 * np.pi * 50 * k * t) / k for k in range(1, 8))


def mixed(x: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    gain = np.sqrt(np.mean(x**2) / (np.mean(noise**2) * 10 ** (snr_db / 10)))
    return x + gain * noise


def speech_regions() -> list[np.ndarray]:
    files = sorted(p for p in EVAL_DIR.rglob("*") if p.suffix in {".wav", ".flac"})
    pieces = []
    for path in files:
        audio = load_audio(path)
        # The detector's own regions, before find_speech leaves any out.
        for stamp in get_speech_timestamps(audio, VAD_OPTIONS):
            pieces.append(audio[stamp["start"] : stamp["end"]])
    return pieces


def tones(seconds: float = 0.5) -> dict[str, np.ndarray]:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE

    def sine(*freqs: float) -> np.ndarray:
        return sum(np.sin(2 * np.pi * f * t) for f in freqs) * 0.3

    return {
        "sine 150": sine(150),
        "sine 220": sine(220),
        "ring 425": sine(425),
        "dial 350+440": sine(350, 440),
        "dtmf 697+1209": sine(697, 1209),
        "saw 220": (2 * ((220 * t) % 1) - 1) * 0.3,
    }


def main() -> None:
    speech: dict[str, list[float]] = {}
    for piece in speech_regions():
        n = piece.size
        variants = {"clean": piece, "telephone": telephone(piece)}
        for name, noise in (("white", RNG.standard_normal(n)), ("pink", pink(n)), ("hum", hum(n))):
            for snr in (10, 5, 0, -5):
                variants[f"{name} {snr:+d} dB"] = mixed(piece, noise, snr)
        for name, x in variants.items():
            speech.setdefault(name, []).append(steadiness(x.astype(np.float32)))
    print(f"speech regions: {len(speech['clean'])} from {EVAL_DIR}")
    print(f"{'speech':<16} {'max':>7} {'p95':>7} {'at or over threshold':>22}")
    for name, values in speech.items():
        over = sum(v >= STEADY_SOUND for v in values)
        print(f"{name:<16} {max(values):7.4f} {np.percentile(values, 95):7.4f} {over:>22}")
    print(f"\n{'tone':<16} {'clean':>7} {'+10 dB':>7} {'+5 dB':>7} {'tel +5':>7}")
    missed = 0
    for name, x in tones().items():
        row = [steadiness(x.astype(np.float32))]
        for snr in (10, 5):
            row.append(steadiness(mixed(x, RNG.standard_normal(x.size), snr).astype(np.float32)))
        row.append(
            steadiness(telephone(mixed(x, RNG.standard_normal(x.size), 5)).astype(np.float32))
        )
        missed += sum(v < STEADY_SOUND for v in row)
        print(f"{name:<16} " + " ".join(f"{v:7.4f}" for v in row))
    print(f"\nthreshold {STEADY_SOUND}: tones under it {missed} (of {6 * 4})")


if __name__ == "__main__":
    main()
