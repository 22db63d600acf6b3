"""Conversations built from real recordings in ../shared/eval, for the diarization benchmark,
split by speaker: the TUNING speakers' conversations are the ones thresholds may be chosen
on; the HELD_OUT speakers' (and the real recordings they come from) only report.

Kinds of material in each half:
- "solo": one speaker's speech alone (also band-limited as "solo-phone"): one speaker;
- "built": each speaker's own recording, turns of about 3 s with short gaps and 0.2 s
  overlaps (the recordings' microphones differ, which helps: the easy case);
- "phone": both speakers mixed into one channel with turns of 1-4 s and overlaps up to
  0.3 s, every turn brought to the same loudness, then the whole call band-limited to
  telephone 8 kHz and back (one channel for both parties: the harder case);
- "meeting": three or four speakers in one room, as far as real recordings allow: one
  channel, turns of 1-4 s that often start before the last one ended (up to 1 s), short
  interjections over a fifth of the turns, each speaker at their own distance (their own
  level and their own reverberation tail) and a little room noise (the hardest case,
  nearest to the AMI meetings).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from pyannote.core import Annotation, Segment

from common import EVAL_DIR
from kazru_stt.media import SAMPLE_RATE, load_audio
from kazru_stt.pipeline.speech_regions import find_speech

# A speaker: the clips that hold only their voice, or (rttm, label) for the stretches of a
# multi-speaker recording where only that label speaks.
TUNING = {
    "vosk": ["ru/vosk_commands.wav"],
    "riva": ["ru/riva_sample.wav"],
    "kk": ["kk/kscd_example_1.wav"],
    "ami_MEE009": [("diar/ami_dev00", "MEE009")],
    "ami_MEE012": [("diar/ami_dev00", "MEE012")],
}
HELD_OUT = {
    "jfk": ["en/jfk.flac"],
    "golos": ["ru/golos_001ce26c.wav"],
    # (tinkoff_sample_4 is another voice: 0.57 from sample_1, same voices are 0.84 or more)
    "tinkoff": ["ru/tinkoff_sample_1.mp3"],
    "vox_spk00": [("diar/voxconverse_aepyx_8k", "spk00")],
    "vox_spk01": [("diar/voxconverse_aepyx_8k", "spk01")],
}
# The real recordings each group may use (ami_tst00/01 share one meeting's speakers).
REAL_TUNING = ["ami_dev00"]
REAL_HELD_OUT = ["ami_tst00", "ami_tst01", "voxconverse_aepyx_8k"]

CONVERSATIONS = {
    "tuning": [
        ("vosk", "riva"),
        ("kk", "vosk"),
        ("riva", "ami_MEE009"),
        ("ami_MEE009", "ami_MEE012"),
        ("kk", "ami_MEE012"),
        ("vosk", "riva", "kk"),
        ("ami_MEE009", "vosk", "ami_MEE012"),
    ],
    "held_out": [
        ("jfk", "golos"),
        ("tinkoff", "jfk"),
        ("vox_spk00", "vox_spk01"),
        ("golos", "vox_spk00"),
        ("tinkoff", "vox_spk01"),
        ("jfk", "golos", "tinkoff"),
        ("vox_spk00", "jfk", "vox_spk01"),
    ],
}
MEETINGS = {
    "tuning": [
        ("vosk", "riva", "kk", "ami_MEE009"),
        ("riva", "kk", "ami_MEE012"),
        ("ami_MEE009", "vosk", "ami_MEE012", "riva"),
    ],
    "held_out": [
        ("jfk", "golos", "tinkoff", "vox_spk00"),
        ("golos", "vox_spk00", "vox_spk01"),
        ("vox_spk01", "tinkoff", "jfk", "golos"),
    ],
}


@dataclass
class Item:
    name: str
    audio: np.ndarray
    truth: Annotation
    kind: str  # solo | solo-phone | built | phone | real


def read_rttm(path: Path) -> Annotation:
    ann = Annotation()
    for line in path.read_text().splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER":
            start, dur = float(f[3]), float(f[4])
            ann[Segment(start, start + dur)] = f[7]
    return ann


@cache
def _audio(rel: str) -> np.ndarray:
    return load_audio(EVAL_DIR / rel)


def _solo_stretches(stem: str, label: str) -> list[np.ndarray]:
    """Where only `label` speaks in a real multi-speaker recording (0.2 s margins)."""
    truth = read_rttm(EVAL_DIR / f"{stem}.rttm")
    audio = _audio(f"{stem}.wav")
    mine = truth.label_timeline(label).support()
    others = Annotation()
    for seg, _, who in truth.itertracks(yield_label=True):
        if who != label:
            others[seg] = who
    solo = mine.extrude(others.get_timeline().support())
    out = []
    for seg in solo:
        a, b = int((seg.start + 0.2) * SAMPLE_RATE), int((seg.end - 0.2) * SAMPLE_RATE)
        if b - a > SAMPLE_RATE:
            out.append(audio[a:b])
    return out


def speech_of(name: str, group: dict) -> list[np.ndarray]:
    """The speaker's speech regions, in order."""
    out = []
    for source in group[name]:
        stretches = _solo_stretches(*source) if isinstance(source, tuple) else [_audio(source)]
        for audio in stretches:
            for r in find_speech(audio):
                a, b = int(r.start * SAMPLE_RATE), int(r.end * SAMPLE_RATE)
                if b - a > SAMPLE_RATE // 2:
                    out.append(audio[a:b])
    return out


def _turns(speech: list[np.ndarray], lengths) -> list[np.ndarray]:
    """Pieces of the speaker's speech, cut to the lengths drawn. A short recording is
    used at most twice over, and wraps around rather than restarting, so no two turns
    are the same stretch of audio (identical turns would cluster unnaturally tightly)."""
    flat = np.concatenate(speech)
    out, pos = [], 0
    for length in lengths:
        n = min(int(length * SAMPLE_RATE), flat.size)
        out.append(np.take(flat, np.arange(pos, pos + n), mode="wrap"))
        pos = (pos + n) % flat.size
    return out


def _level(x: np.ndarray, dbfs: float = -24.0) -> np.ndarray:
    rms = float(np.sqrt(np.mean(x**2))) + 1e-9
    return x * (10 ** (dbfs / 20) / rms)


def _telephone(x: np.ndarray) -> np.ndarray:
    from scipy.signal import resample_poly

    return resample_poly(resample_poly(x, 1, 2), 2, 1).astype(np.float32)[: x.size]


def build(names: tuple[str, ...], group: dict, kind: str, seed: int) -> Item:
    rng = np.random.default_rng(seed)
    per = {n: speech_of(n, group) for n in names}
    mean_turn = 2.5 if kind == "phone" else 3.0
    # Rounds of turns: each speaker's speech used at most twice, 90 s at most in all.
    rounds = min(
        max(2, int(2 * sum(p.size for p in per[n]) / SAMPLE_RATE / mean_turn)) for n in names
    )
    n_turns = min(rounds, int(90 / mean_turn / len(names))) * len(names)
    order = [names[i % len(names)] for i in range(n_turns)]
    if kind == "phone":
        lengths = {n: rng.uniform(1.0, 4.0, n_turns) for n in names}
    else:
        lengths = {n: np.full(n_turns, 3.0) for n in names}
    pieces = {n: _turns(per[n], lengths[n]) for n in names}
    track = np.zeros(int(0.5 * SAMPLE_RATE), np.float32)
    truth = Annotation()
    t, used = 0.5, dict.fromkeys(names, 0)
    for who in order:
        p = pieces[who][used[who]]
        used[who] += 1
        if kind == "phone":
            p = _level(p)
            gap = rng.uniform(-0.3, 0.6)
        else:
            gap = rng.choice([0.3, 0.6, 0.9, -0.2])
        start = max(0.0, t + gap)
        a = int(start * SAMPLE_RATE)
        if track.size < a + p.size:
            track = np.concatenate([track, np.zeros(a + p.size - track.size, np.float32)])
        track[a : a + p.size] += p
        truth[Segment(start, start + p.size / SAMPLE_RATE)] = who
        t = start + p.size / SAMPLE_RATE
    track = np.concatenate([track, np.zeros(SAMPLE_RATE // 2, np.float32)])
    if kind == "phone":
        track = _telephone(track)
    track = np.clip(track, -1, 1)
    return Item(f"{kind} {'+'.join(names)}", track, truth, kind)


def _room(rng: np.random.Generator) -> np.ndarray:
    """A speaker's path to the table microphone: the direct sound, then a tail of
    exponentially decaying reflections (reverberation time 0.3-0.7 s) at 0.3-1 times the
    direct sound's energy (a nearer or a farther seat)."""
    rt60 = rng.uniform(0.3, 0.7)
    n = int(rt60 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    tail[: int(0.005 * SAMPLE_RATE)] = 0.0  # the first reflections come a little later
    response = tail / np.sqrt(np.sum(tail**2)) * rng.uniform(0.3, 1.0)
    response[0] = 1.0
    return response.astype(np.float32)


def meeting(names: tuple[str, ...], group: dict, seed: int) -> Item:
    from scipy.signal import fftconvolve

    rng = np.random.default_rng(seed)
    per = {n: speech_of(n, group) for n in names}
    budget = {n: 2 * sum(p.size for p in per[n]) / SAMPLE_RATE for n in names}
    n_turns = int(min(90 / 2.5, min(budget.values()) / 2.5 * len(names)))
    rooms = {n: _room(rng) for n in names}
    gains = {n: 10 ** (rng.uniform(-8.0, 0.0) / 20) for n in names}
    speech = {n: np.concatenate(per[n]) for n in names}
    pos = dict.fromkeys(names, 0)

    def piece(who: str, seconds: float) -> np.ndarray:
        flat = speech[who]
        n = min(int(seconds * SAMPLE_RATE), flat.size)
        out = np.take(flat, np.arange(pos[who], pos[who] + n), mode="wrap")
        pos[who] = (pos[who] + n) % flat.size
        out = fftconvolve(_level(out), rooms[who])[: out.size + rooms[who].size // 2]
        return (out * gains[who]).astype(np.float32)

    placed: list[tuple[float, np.ndarray, str]] = []
    t, who = 0.5, names[0]
    for _ in range(n_turns):
        p = piece(who, rng.uniform(1.0, 4.0))
        start = max(0.0, t + rng.uniform(-1.0, 0.4))
        placed.append((start, p, who))
        if rng.random() < 0.2:  # an interjection from someone else over this turn
            other = names[int(rng.integers(len(names)))]
            if other != who:
                q = piece(other, rng.uniform(0.5, 1.0))
                placed.append(
                    (start + rng.uniform(0.0, max(p.size / SAMPLE_RATE - 1.0, 0.1)), q, other)
                )
        t = start + p.size / SAMPLE_RATE
        who = names[(names.index(who) + int(rng.integers(1, len(names)))) % len(names)]
    end = max(s + p.size / SAMPLE_RATE for s, p, _ in placed) + 0.5
    track = np.zeros(int(end * SAMPLE_RATE), np.float32)
    truth = Annotation()
    for start, p, who in placed:
        a = int(start * SAMPLE_RATE)
        track[a : a + p.size] += p
        # The reference ends with the speech, not with its reverberation tail.
        truth[Segment(start, start + (p.size - rooms[who].size // 2) / SAMPLE_RATE)] = who
    noise = rng.standard_normal(track.size).astype(np.float32) * 10 ** (-55 / 20)
    track = np.clip(track + noise, -1, 1)
    return Item(f"meeting {'+'.join(names)}", track, truth, "meeting")


def solo(name: str, group: dict, kind: str) -> Item:
    """One speaker alone: their speech with 0.25 s pauses (the count must come out 1)."""
    track, truth, t = [], Annotation(), 0.0
    gap = np.zeros(SAMPLE_RATE // 4, np.float32)
    for piece in speech_of(name, group):
        truth[Segment(t, t + piece.size / SAMPLE_RATE)] = name
        track += [piece, gap]
        t += (piece.size + gap.size) / SAMPLE_RATE
    audio = np.concatenate(track)
    if kind == "solo-phone":
        audio = _telephone(_level(audio))
    return Item(f"{kind} {name}", audio, truth, kind)


def items(split: str) -> list[Item]:
    group = TUNING if split == "tuning" else HELD_OUT
    out = [solo(name, group, kind) for name in group for kind in ("solo", "solo-phone")]
    for i, names in enumerate(CONVERSATIONS[split]):
        out.append(build(names, group, "built", seed=i))
        if len(names) == 2:
            out.append(build(names, group, "phone", seed=100 + i))
    for i, names in enumerate(MEETINGS[split]):
        out.append(meeting(names, group, seed=200 + i))
    for stem in REAL_TUNING if split == "tuning" else REAL_HELD_OUT:
        out.append(
            Item(
                stem, _audio(f"diar/{stem}.wav"), read_rttm(EVAL_DIR / f"diar/{stem}.rttm"), "real"
            )
        )
    return out
