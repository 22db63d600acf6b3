"""Short real passages for language identification, built from an eval folder's recordings.

Every Kazakh, Russian and English recording of a folder in the eval manifest format
(`manifest.jsonl`: `id`, `lang`, `audio`) gives its speech whole (up to 30 s: a region) and
cut at its quietest points into pieces of 0.5-2 s and 2-6 s; each passage also comes
through a telephone line (8 kHz, 300-3400 Hz, G.711 mu-law) and re-encoded (Opus at
16 kbit/s). A passage's `source` is its recording (the Kazakh words of one speaker are one
source), so rules can be scored with whole sources held out.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from scipy import signal

from kazru_stt.media import load_audio
from kazru_stt.media.encode import write_wav
from kazru_stt.pipeline.speech_regions import find_speech

RATE = 16000
FRAME = 320  # 20 ms
LANGUAGES = ("kk", "ru", "en")
VARIANTS = ("clean", "phone", "opus")


@dataclass
class Passage:
    source: str
    id: str
    lang: str
    kind: str  # whole | piece
    variant: str  # clean | phone | opus
    audio: np.ndarray

    @property
    def seconds(self) -> float:
        return self.audio.size / RATE


def cut_at_pauses(audio: np.ndarray, lo_s: float, hi_s: float) -> list[np.ndarray]:
    """Pieces of lo..hi seconds, each cut at the quietest 20 ms frame in its window."""
    energy = np.array(
        [float(np.mean(audio[i : i + FRAME] ** 2)) for i in range(0, audio.size - FRAME, FRAME)]
    )
    pieces, start = [], 0
    lo, hi = int(lo_s * RATE / FRAME), int(hi_s * RATE / FRAME)
    while start + hi < energy.size:
        window = energy[start + lo : start + hi]
        cut = start + lo + int(np.argmin(window))
        pieces.append(audio[start * FRAME : cut * FRAME])
        start = cut
    if energy.size - start >= lo:
        pieces.append(audio[start * FRAME :])
    return pieces


def telephone(audio: np.ndarray) -> np.ndarray:
    """As a narrow-band call carries it: 8 kHz, 300-3400 Hz, 8-bit mu-law, back at 16 kHz."""
    narrow = signal.resample_poly(audio, 1, 2)
    sos = signal.butter(4, (300, 3400), btype="bandpass", fs=8000, output="sos")
    narrow = np.clip(signal.sosfilt(sos, narrow), -1.0, 1.0)
    mu = 255.0
    coded = np.sign(narrow) * np.log1p(mu * np.abs(narrow)) / np.log1p(mu)
    coded = np.round(coded * 127) / 127
    narrow = np.sign(coded) * ((1 + mu) ** np.abs(coded) - 1) / mu
    return signal.resample_poly(narrow, 2, 1).astype(np.float32)


def opus(audio: np.ndarray, tmp: Path, bitrate: int = 16000) -> np.ndarray:
    """Encoded to Opus at a low bit rate (a messenger's voice note) and decoded again."""
    wav = io.BytesIO()
    write_wav(wav, audio)
    wav.seek(0)
    target = tmp / "reencoded.ogg"
    with av.open(wav) as src, av.open(str(target), "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=48000)
        stream.bit_rate = bitrate
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        for frame in src.decode(audio=0):
            for chunk in resampler.resample(frame):
                out.mux(stream.encode(chunk))
        for chunk in resampler.resample(None):
            out.mux(stream.encode(chunk))
        out.mux(stream.encode(None))
    return load_audio(target)


def source_of(row: dict) -> str:
    # The Kazakh words and the read sentence of the speech-commands set are one speaker.
    return "kscd" if "kscd" in row["id"] else row["id"]


def passages(rows: list[dict], eval_dir: Path, tmp: Path) -> Iterator[Passage]:
    for row in rows:
        if row["lang"] not in LANGUAGES:
            continue
        audio = load_audio(eval_dir / row["audio"])
        regions = [audio[int(r.start * RATE) : int(r.end * RATE)] for r in find_speech(audio, 0.0)]
        speech = np.concatenate(regions) if regions else audio
        # A recording up to 30 s is one passage whole; a longer one, each region.
        wholes = [speech] if speech.size <= 30 * RATE else regions
        pieces = [
            piece
            for region in regions
            for lo, hi in ((0.5, 2.0), (2.0, 6.0))
            for piece in cut_at_pauses(region, lo, hi)
        ]
        clean = [("whole", a) for a in wholes] + [("piece", a) for a in pieces]
        seen: set[int] = set()
        for kind, clip in clean:
            # A piece that is its whole recording (a short clip) is counted once.
            if clip.size < 0.3 * RATE or clip.size in seen:
                continue
            seen.add(clip.size)
            for variant in VARIANTS:
                if variant == "clean":
                    version = clip
                elif variant == "phone":
                    version = telephone(clip)
                else:
                    version = opus(clip, tmp)
                yield Passage(source_of(row), row["id"], row["lang"], kind, variant, version)
