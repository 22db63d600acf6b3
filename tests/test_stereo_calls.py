"""A call recorded one party per channel, built from real recordings of two sources (Tinkoff's
voice on the left, two others on the right), taking turns, each leaking into the other's
channel at -25 dB as a telephone line does: told apart from the audio, transcribed channel
by channel, each party's words under its own speaker and none twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from kazru_stt.domain.text_compare import normalize
from kazru_stt.media import SAMPLE_RATE, load_audio, probe
from kazru_stt.pipeline import TranscribeOptions, transcribe_file
from kazru_stt.pipeline.stereo_calls import is_split_call

from .conftest import manifest, write_wav

LEFT = ["ru_tinkoff_sample_1", "ru_tinkoff_sample_4", "ru_tinkoff_privet_oleg"]
RIGHT = ["ru_riva_sample", "ru_golos_001ce26c"]
LEAK = 10 ** (-25 / 20)


@pytest.fixture(scope="module")
def call(eval_dir, tmp_path_factory):
    rows = {r["id"]: r for r in manifest()}
    order = [(0, LEFT[0]), (1, RIGHT[0]), (0, LEFT[1]), (1, RIGHT[1]), (0, LEFT[2])]
    pause = int(0.6 * SAMPLE_RATE)
    left, right, turns, t = [], [], [], 0
    rng = np.random.default_rng(0)
    for channel, clip_id in order:
        audio = load_audio(eval_dir / rows[clip_id]["audio"])
        own, other = (left, right) if channel == 0 else (right, left)
        own.append(audio)
        other.append(audio * LEAK)
        for side in (left, right):
            side.append(np.zeros(pause, np.float32))
        turns.append((t / SAMPLE_RATE, (t + audio.size) / SAMPLE_RATE, channel, rows[clip_id]))
        t += audio.size + pause
    stereo = np.stack([np.concatenate(left), np.concatenate(right)])
    stereo += rng.normal(0, 1e-4, stereo.shape).astype(np.float32)  # line noise
    out = tmp_path_factory.mktemp("call")
    path = write_wav(out / "call.wav", stereo)
    same = write_wav(out / "same_twice.wav", np.stack([stereo.mean(axis=0)] * 2))
    return path, same, turns


def _words_in(transcript, start, end, speaker=None):
    return [
        normalize(w.text)
        for s in transcript.segments
        for w in s.words
        if w.start < end and w.end > start and (speaker is None or s.speaker == speaker)
    ]


def test_a_call_is_transcribed_one_party_per_channel(engine, call):
    path, _same, turns = call
    assert probe(path).channels == 2 and is_split_call(path)
    transcript = transcribe_file(path, TranscribeOptions(language="ru"), engine)
    assert [s.label for s in transcript.speakers] == ["SPEAKER_1", "SPEAKER_2"]
    for start, end, channel, row in turns:
        mine, theirs = f"SPEAKER_{channel + 1}", f"SPEAKER_{2 - channel}"
        said = set(normalize(row["text"]).split())
        heard = _words_in(transcript, start, end, mine)
        assert said & set(heard), (row["id"], heard)
        # The leak of this turn into the other channel wrote nothing there.
        assert not _words_in(transcript, start, end, theirs), row["id"]
    assert all(w.speaker == s.speaker for s in transcript.segments for w in s.words)
    assert [s.id for s in transcript.segments] == list(range(len(transcript.segments)))


def test_one_signal_twice_is_no_call_unless_forced(engine, call):
    _path, same, _turns = call
    assert not is_split_call(same)
    mixed = transcribe_file(same, TranscribeOptions(language="ru"), engine)
    assert mixed.speakers == [] and all(s.speaker is None for s in mixed.segments)
    forced = transcribe_file(same, TranscribeOptions(language="ru", stereo="split"), engine)
    assert [s.label for s in forced.speakers] == ["SPEAKER_1", "SPEAKER_2"]


def test_the_cli_splits_a_call_and_the_setting_turns_it_off(call, model_cache, tmp_path):
    path, _same, _turns = call
    env = {
        **os.environ,
        "KAZRU_DATA_DIR": str(tmp_path),
        "KAZRU_MODEL_CACHE_DIR": str(model_cache),
        "KAZRU_DEVICE": "cpu",
    }

    def run(**extra):
        done = subprocess.run(
            [sys.executable, "-m", "kazru_stt.cli.main", "transcribe", str(path)]
            + ["-f", "json", "-q", "--language", "ru"],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    split = run()
    assert [s["label"] for s in split["speakers"]] == ["SPEAKER_1", "SPEAKER_2"]
    mixed = run(KAZRU_STEREO_CALLS="mix")
    assert mixed["speakers"] == []


def test_a_party_that_says_little_is_still_a_party(eval_dir, tmp_path):
    """A call-centre call: one party talks a minute, the other answers twice (about 5 % of
    the speech), each leaking into the other's channel: a call whatever the share. The same
    audio on one channel with a quieter copy on the other, and a stereo melody, are not."""
    rows = {r["id"]: r for r in manifest()}
    talk = load_audio(eval_dir / rows["ru_vosk_commands"]["audio"])
    talk = np.tile(talk, 3)[: 60 * SAMPLE_RATE]
    answer = load_audio(eval_dir / rows["ru_golos_001ce26c"]["audio"])[: int(1.5 * SAMPLE_RATE)]
    half = talk.size // 2
    left = np.concatenate([talk[:half], np.zeros_like(answer), talk[half:], np.zeros_like(answer)])
    right = np.concatenate(
        [np.zeros(half, np.float32), answer, np.zeros(talk.size - half, np.float32), answer]
    )
    stereo = np.stack([left + LEAK * right, right + LEAK * left])
    assert is_split_call(write_wav(tmp_path / "client.wav", stereo))
    mixed = stereo.mean(axis=0)
    assert not is_split_call(write_wav(tmp_path / "copy.wav", np.stack([mixed, mixed / 4])))
    t = np.arange(SAMPLE_RATE // 2) / SAMPLE_RATE
    notes = [
        sum(np.sin(2 * np.pi * f * k * t) / k for k in range(1, 6)) * np.exp(-3 * t) * 0.2
        for f in (220, 262, 330, 392, 440, 523) * 10
    ]
    tune = np.concatenate(notes).astype(np.float32)
    assert not is_split_call(write_wav(tmp_path / "melody.wav", np.stack([tune, 0.6 * tune])))
