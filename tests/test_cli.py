"""`kazru transcribe` as a user runs it: a real process, every eval clip, every format."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import docx
import pytest

from tests.conftest import manifest

KAZRU = [sys.executable, "-m", "kazru_stt.cli.main"]


def run(args: list[str], model_cache: Path, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "KAZRU_MODEL_CACHE_DIR": str(model_cache), "KAZRU_DEVICE": "cpu"}
    return subprocess.run(KAZRU + args, capture_output=True, env=env, timeout=900, **kw)


@pytest.fixture(scope="module")
def all_clips_out(eval_dir, model_cache, tmp_path_factory, engine):
    out = tmp_path_factory.mktemp("out")
    files = [str(eval_dir / row["audio"]) for row in manifest()]
    formats = sum((["--format", f] for f in ("txt", "srt", "vtt", "json", "docx")), [])
    proc = run(["transcribe", *files, *formats, "-o", str(out), "-q"], model_cache)
    return proc, out


def _thrice(text: str, every: bool = False):
    """The first word or phrase (1-3 words) said three times in a row; with `every`, all."""
    words = re.findall(r"\w+", text.lower())
    found = []
    for n in (1, 2, 3):
        for i in range(len(words) - 3 * n + 1):
            if words[i : i + n] == words[i + n : i + 2 * n] == words[i + 2 * n : i + 3 * n]:
                if not every:
                    return " ".join(words[i : i + n])
                found.append(" ".join(words[i : i + n]))
    return found if every else None


def test_every_clip_in_every_format(all_clips_out):
    proc, out = all_clips_out
    assert proc.returncode == 0, proc.stderr.decode()
    for row in manifest():
        stem = Path(row["audio"]).stem
        for fmt in ("txt", "srt", "vtt", "json", "docx"):
            assert (out / f"{stem}.{fmt}").is_file(), (stem, fmt)
        data = json.loads((out / f"{stem}.json").read_text(encoding="utf-8"))
        assert data["segments"] or row["duration_s"] < 0.5, stem
        assert all(seg["language"] for seg in data["segments"]), stem
        # No invented text: no half letters, no word without length, no loop the
        # reference does not have.
        words = [w for seg in data["segments"] for w in seg["words"]]
        assert "\ufffd" not in json.dumps(data, ensure_ascii=False), stem
        assert all(w["end"] > w["start"] for w in words), stem
        for seg in data["segments"]:
            looped = _thrice(seg["text"])
            assert not looped or looped in _thrice(row["text"] or "", every=True), (stem, seg)
        assert set(data) >= {
            "duration",
            "language",
            "languages",
            "engine",
            "model",
            "speakers",
            "segments",
        }


def test_docx_opens_with_kazakh_letters(all_clips_out):
    _, out = all_clips_out
    doc = docx.Document(io.BytesIO((out / "mixed_kk_ru.docx").read_bytes()))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert doc.paragraphs[0].text == "mixed_kk_ru.wav"
    assert any(ch in body for ch in "әғқңөұүһі")


def test_single_format_goes_to_stdout(eval_dir, model_cache, engine):
    proc = run(
        ["transcribe", str(eval_dir / "mixed_kk_ru.wav"), "--format", "json", "-q"], model_cache
    )
    assert proc.returncode == 0, proc.stderr.decode()
    data = json.loads(proc.stdout)
    assert [s["language"] for s in data["segments"]][0] == "kk"
    assert [s["language"] for s in data["segments"]][-1] == "ru"


def test_bad_files_give_one_line_errors_and_others_still_done(
    eval_dir, model_cache, tmp_path, engine
):
    text = tmp_path / "notes.txt"
    text.write_text("not audio\n" * 20)
    zero = tmp_path / "zero.mp3"
    zero.write_bytes(b"")
    cut = tmp_path / "cut.mp3"
    data = (eval_dir / "ru" / "tinkoff_sample_1.mp3").read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    good = eval_dir / "ru" / "tinkoff_sample_4.wav"
    out = tmp_path / "out"
    proc = run(
        ["transcribe", str(text), str(zero), str(cut), str(good), "-o", str(out), "-q"], model_cache
    )
    assert proc.returncode == 1
    lines = proc.stderr.decode().strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert [e.split(":")[1].strip() for e in errors] == [
        "unsupported_media",
        "empty_audio",
        "corrupt_media",
    ]
    assert (out / "tinkoff_sample_4.txt").read_text(encoding="utf-8").strip()
    assert "Traceback" not in proc.stderr.decode()


def test_several_formats_without_output_dir_is_a_usage_error(eval_dir, model_cache):
    proc = run(
        ["transcribe", str(eval_dir / "mixed_kk_ru.wav"), "-f", "txt", "-f", "srt"], model_cache
    )
    assert proc.returncode == 1
    assert proc.stderr.decode().startswith("error: invalid_option: ")


def test_a_vocabulary_file_spells_its_terms(tmp_path, eval_dir, model_cache, engine):
    terms = tmp_path / "terms.txt"
    terms.write_text("Тинькофф\n\n  Египет \n", encoding="utf-8")
    clip = str(eval_dir / "ru" / "tinkoff_sample_1.mp3")
    proc = run(["transcribe", clip, "--vocabulary", str(terms), "-q"], model_cache)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().startswith("Тинькофф")
    missing = run(["transcribe", clip, "--vocabulary", str(tmp_path / "none.txt")], model_cache)
    assert missing.returncode == 1
    assert missing.stderr.decode().startswith("error: invalid_option: none.txt:")
