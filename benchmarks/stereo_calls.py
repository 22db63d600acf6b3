"""Is a stereo recording a call with one party per channel? The shipped rule
(`pipeline/stereo_calls.ChannelStats.is_call`) beside the previous one (each party leads at
least a tenth of the speech) on recordings built from real voices of the eval folder:

- calls: a talkative party (one source's clips back to back, a minute) and a quiet one (pieces of
  0.4-1.5 s cut at pauses from another source's clips, as a client's "да", "иә" would be)
  taking turns, the quiet party's share of speech 5, 9, 20 or 50 %, its voice leaking into
  the other channel at -25 dB, -40 dB or not at all, at full band or through a telephone
  band (300-3400 Hz), with line noise;
- not calls: each call's mix on both channels, and with one channel 12 dB down; two
  microphones in one room (each hears the other party 6 dB down and 3 ms later); one party
  with the other channel silent but for its leak; a stereo melody (harmonic notes panned).

Nothing of the rule is fitted here: its new number (a party leading at least a second)
comes from what each kind of recording is; this prints where each recording falls, and the
channels' correlation over the speech (the other sign of two voices, which the rule does
not use: a line's leak makes a call as correlated as a melody).

    .venv/bin/python benchmarks/stereo_calls.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from scipy.signal import butter, sosfilt

from common import EVAL_DIR, manifest
from kazru_stt.media import SAMPLE_RATE, load_audio
from kazru_stt.media.encode import write_wav
from kazru_stt.pipeline import stereo_calls
from kazru_stt.pipeline.speech_regions import find_speech

RATE = SAMPLE_RATE
PAIRS = [  # (talkative source, quiet source): different speakers
    ("ru_vosk_commands", "ru_riva_sample"),
    ("ru_riva_sample", "ru_tinkoff_sample_1"),
    ("kk_cs", "ru_golos_001ce26c"),
    ("ru_tinkoff_sample_4", "kk_kscd_example_1"),
]


def _source(name: str) -> np.ndarray:
    rows = manifest()
    if name == "kk_cs":  # spontaneous Kazakh, several clips back to back
        clips = [r for r in rows if r["audio"].startswith("kk_cs/")][:6]
        return np.concatenate([load_audio(EVAL_DIR / r["audio"]) for r in clips])
    row = next(r for r in rows if r["id"] == name)
    return load_audio(EVAL_DIR / row["audio"])


def _pieces(audio: np.ndarray) -> list[np.ndarray]:
    """Speech cut at pauses into pieces of 0.4-1.5 s."""
    out = []
    for region in find_speech(audio):
        a, b = int(region.start * RATE), int(region.end * RATE)
        while b - a >= int(0.4 * RATE):
            n = min(b - a, int(1.5 * RATE))
            out.append(audio[a : a + n])
            a += n
    return out


def build_call(talk: np.ndarray, quiet: list[np.ndarray], share: float, rng) -> np.ndarray:
    """Two channels, the quiet party's pieces between the talker's stretches."""
    total_quiet = share / (1 - share) * talk.size
    chosen, have = [], 0
    while have < total_quiet:
        piece = quiet[len(chosen) % len(quiet)]
        chosen.append(piece)
        have += piece.size
    stretches = np.array_split(talk, len(chosen) + 1)
    left, right = [], []
    gap = np.zeros(int(0.4 * RATE), np.float32)
    for i, stretch in enumerate(stretches):
        left += [stretch, gap]
        right += [np.zeros_like(stretch), gap]
        if i < len(chosen):
            left += [np.zeros_like(chosen[i]), gap]
            right += [chosen[i], gap]
    return np.stack([np.concatenate(left), np.concatenate(right)])


def leak(call: np.ndarray, db: float | None) -> np.ndarray:
    if db is None:
        return call.copy()
    g = 10 ** (db / 20)
    return np.stack([call[0] + g * call[1], call[1] + g * call[0]])


def telephone(stereo: np.ndarray) -> np.ndarray:
    sos = butter(4, [300, 3400], btype="bandpass", fs=RATE, output="sos")
    return sosfilt(sos, stereo, axis=1).astype(np.float32)


def room(call: np.ndarray) -> np.ndarray:
    far, delay = 10 ** (-6 / 20), int(0.003 * RATE)
    shifted = np.pad(call, ((0, 0), (delay, 0)))[:, : call.shape[1]]
    return np.stack([call[0] + far * shifted[1], call[1] + far * shifted[0]])


def melody(seconds: float, rng) -> np.ndarray:
    t = np.arange(int(0.5 * RATE)) / RATE
    notes = []
    for _ in range(int(seconds / 0.5)):
        f = 220 * 2 ** (rng.integers(0, 12) / 12)
        note = sum(np.sin(2 * np.pi * f * k * t) / k for k in range(1, 6)) * np.exp(-3 * t)
        notes.append(0.2 * note)
    mono = np.concatenate(notes).astype(np.float32)
    return np.stack([mono, 0.6 * mono + 0.05 * rng.normal(size=mono.size).astype(np.float32)])


def old_rule(stats: stereo_calls.ChannelStats) -> bool:
    if not stats.active:
        return False
    return (stats.left + stats.right) / stats.active >= stereo_calls.MIN_DOMINANT_SHARE and (
        min(stats.left, stats.right) / stats.active >= stereo_calls.MIN_PARTY_SHARE
    )


def main() -> None:
    rng = np.random.default_rng(0)
    work = Path(tempfile.mkdtemp())
    cases: list[tuple[str, np.ndarray, bool]] = []
    for talk_name, quiet_name in PAIRS:
        talk, quiet = _source(talk_name), _pieces(_source(quiet_name))
        talk = np.tile(talk, int(np.ceil(60 * RATE / talk.size)))  # a minute, so shares hold
        for share in (0.05, 0.09, 0.2, 0.5):
            call = build_call(talk, quiet, share, rng)
            for db in (-25.0, -40.0, None):
                for band in ("full", "phone"):
                    stereo = leak(call, db)
                    stereo = telephone(stereo) if band == "phone" else stereo
                    stereo = stereo + rng.normal(0, 1e-4, stereo.shape).astype(np.float32)
                    name = f"{talk_name}+{quiet_name} {share:.0%} leak {db} {band}"
                    cases.append((f"call {name}", stereo, True))
            mixed = leak(call, -25.0).mean(axis=0)
            cases.append((f"mono twice {talk_name} {share:.0%}", np.stack([mixed, mixed]), False))
            cases.append(
                (
                    f"mono, one side -12 dB {talk_name} {share:.0%}",
                    np.stack([mixed, mixed / 4]),
                    False,
                )
            )
            cases.append((f"room mics {talk_name} {share:.0%}", room(call), False))
        one = np.stack([talk, 10 ** (-25 / 20) * talk])
        cases.append((f"one party, leak only {talk_name}", one, False))
    cases.append(("stereo melody", melody(60, rng), False))

    right = {"old": 0, "new": 0}
    wrong: dict[str, list[str]] = {"old": [], "new": []}
    print(f"{'recording':58} {'dom':>5} {'quiet':>6} {'quiet s':>7} {'corr':>5}  truth old new")
    for name, stereo, truth in cases:
        path = write_wav(work / "x.wav", stereo)
        decoded = load_audio_stereo(path)
        stats = stereo_calls.ChannelStats()
        stats.add(decoded)
        corr = float(np.corrcoef(decoded[0], decoded[1])[0, 1])
        decided = {"old": old_rule(stats), "new": stats.is_call()}
        for rule, call in decided.items():
            right[rule] += call == truth
            if call != truth:
                wrong[rule].append(name)
        quiet = min(stats.left, stats.right)
        print(
            f"{name[:58]:58} {(stats.left + stats.right) / max(stats.active, 1):5.2f} "
            f"{quiet / max(stats.active, 1):6.3f} {quiet * stereo_calls.FRAME_S:7.1f} "
            f"{corr:5.2f}  {'call' if truth else '-':>5} "
            f"{'call' if decided['old'] else '-':>4} {'call' if decided['new'] else '-':>4}"
        )
    n = len(cases)
    calls = sum(t for _, _, t in cases)
    for rule in ("old", "new"):
        print(f"\n{rule} rule: {right[rule]}/{n} right ({calls} calls, {n - calls} not)")
        for name in wrong[rule]:
            print(f"  wrong: {name}")


def load_audio_stereo(path: Path) -> np.ndarray:
    from kazru_stt.media import iter_audio

    return np.concatenate(list(iter_audio(path, block_seconds=600, channels=2)), axis=1)


if __name__ == "__main__":
    main()
