"""Speaker diarization on real voices: built conversations, single speakers, failures."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from kazru_stt.diarization import SpeakerBounds, Window, cluster_windows
from kazru_stt.exporters import export
from kazru_stt.media import load_audio
from kazru_stt.media.encode import write_wav
from kazru_stt.pipeline import TranscribeOptions, transcribe_file


def conversation(eval_dir, tmp_path, names: list[str]):
    """Turns of different real speakers, 0.6 s apart; returns path and (start, end, who)."""
    sources = {
        "vosk": "ru/vosk_commands.wav",
        "riva": "ru/riva_sample.wav",
        "kk": "kk/kscd_example_1.wav",
        "golos": "ru/golos_001ce26c.wav",
        "jfk": "en/jfk.flac",
    }
    audio = {n: load_audio(eval_dir / sources[n]) for n in names}
    chunks = {
        n: [a[i : i + 48000] for i in range(0, a.size - 16000, 48000)] for n, a in audio.items()
    }
    track, truth, t = [], [], 0.0
    gap = np.zeros(9600, np.float32)
    for i in range(3):
        for n in names:
            piece = chunks[n][i % len(chunks[n])]
            truth.append((t, t + piece.size / 16000, n))
            track += [piece, gap]
            t += (piece.size + gap.size) / 16000
    return write_wav(tmp_path / f"{'-'.join(names)}.wav", np.concatenate(track)), truth


def _agreement(transcript, truth) -> float:
    """Share of words whose speaker is the majority speaker of their true turn."""
    mapping: dict[str, dict[str, int]] = {}
    words = [w for s in transcript.segments for w in s.words]
    for w in words:
        mid = (w.start + w.end) / 2
        who = next((n for a, b, n in truth if a - 0.2 <= mid <= b + 0.2), None)
        if who:
            mapping.setdefault(who, {}).setdefault(w.speaker, 0)
            mapping[who][w.speaker] += 1
    right = sum(max(c.values()) for c in mapping.values())
    total = sum(sum(c.values()) for c in mapping.values())
    labels = [max(c, key=c.get) for c in mapping.values()]
    assert len(set(labels)) == len(labels), mapping  # different people, different labels
    return right / total


@pytest.mark.parametrize("names", [["vosk", "riva"], ["jfk", "golos", "vosk"]])
def test_built_conversation_speakers(engine, eval_dir, tmp_path, names):
    path, truth = conversation(eval_dir, tmp_path, names)
    opts = TranscribeOptions(language="auto", languages=("kk", "ru", "en"), diarize=True)
    t = transcribe_file(path, opts, engine)
    assert [s.label for s in t.speakers] == [f"SPEAKER_{i + 1}" for i in range(len(names))]
    assert t.segments[0].speaker == "SPEAKER_1"
    assert all(s.speaker for s in t.segments) and all(
        w.speaker for s in t.segments for w in s.words
    )
    assert _agreement(t, truth) >= 0.85
    txt = export(t, "txt").decode()
    assert txt.startswith("SPEAKER_1: ") and "SPEAKER_2: " in txt
    assert "SPEAKER_2: " in export(t, "srt").decode()
    assert json.loads(export(t, "json"))["speakers"][0]["label"] == "SPEAKER_1"


@pytest.mark.parametrize("clip", ["ru/vosk_commands.wav", "ru/riva_sample.wav", "en/jfk.flac"])
def test_single_speaker_is_one_speaker(engine, eval_dir, clip):
    opts = TranscribeOptions(language="auto", languages=("kk", "ru", "en"), diarize=True)
    t = transcribe_file(eval_dir / clip, opts, engine)
    assert [s.label for s in t.speakers] == ["SPEAKER_1"]
    assert {s.speaker for s in t.segments} == {"SPEAKER_1"}


def test_fixed_speaker_count_is_respected(engine, eval_dir, tmp_path):
    path, _ = conversation(eval_dir, tmp_path, ["vosk", "riva"])
    opts = TranscribeOptions(language="ru", diarize=True, num_speakers=3)
    assert len(transcribe_file(path, opts, engine).speakers) == 3


def test_failing_diarization_keeps_the_transcript(engine, eval_dir, monkeypatch):
    from kazru_stt.diarization import embed

    def boom(self, *args, **kwargs):
        raise RuntimeError("encoder exploded")

    monkeypatch.setattr(embed.SpeakerEmbedder, "add", boom)
    plain = transcribe_file(
        eval_dir / "ru" / "vosk_commands.wav", TranscribeOptions(language="ru"), engine
    )
    t = transcribe_file(
        eval_dir / "ru" / "vosk_commands.wav",
        TranscribeOptions(language="ru", diarize=True),
        engine,
    )
    assert t.text == plain.text and t.segments
    assert t.speakers == [] and all(s.speaker is None for s in t.segments)
    assert t.warnings and t.warnings[0]["code"] == "diarization_failed"
    assert "encoder exploded" in t.warnings[0]["message"]


def test_clustering_finds_groups_and_honours_bounds():
    rng = np.random.default_rng(3)
    centres = [rng.standard_normal(256) for _ in range(3)]
    windows = []
    for k in range(60):
        c = centres[(k // 10) % 3]  # turns of 10 windows: 0,1,2,0,1,2
        e = c + 0.25 * rng.standard_normal(256)
        windows.append(Window(k * 0.25, k * 0.25 + 1.6, e / np.linalg.norm(e)))
    labels = cluster_windows(windows)
    assert len(set(labels)) == 3 and list(labels[:10]) == [0] * 10 and labels[10] == 1
    assert len(set(cluster_windows(windows, SpeakerBounds(max_speakers=2)))) == 2
    assert len(set(cluster_windows(windows, SpeakerBounds(num_speakers=1)))) == 1
    assert cluster_windows([]).size == 0


def test_cli_diarize(eval_dir, tmp_path, model_cache, engine):
    import os

    path, _ = conversation(eval_dir, tmp_path, ["vosk", "riva"])
    env = {**os.environ, "KAZRU_MODEL_CACHE_DIR": str(model_cache), "KAZRU_DEVICE": "cpu"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "kazru_stt.cli.main",
            "transcribe",
            str(path),
            "--diarize",
            "--language",
            "ru",
            "-f",
            "json",
            "-q",
        ],
        capture_output=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    data = json.loads(proc.stdout)
    assert [s["label"] for s in data["speakers"]] == ["SPEAKER_1", "SPEAKER_2"]
