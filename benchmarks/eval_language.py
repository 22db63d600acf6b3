"""The language of passages as the service gives them, on every recording of an eval folder
and on built Kazakh -> Russian -> Kazakh files; prints what must hold and where it does not:

- every passage with speech has a language (the empty unsure one too);
- no Kazakh or Russian recording has a passage labelled English, and the English ones stay
  English (their passages with text);
- no word or phrase comes out three times in a row where the reference has none;
- built files, a short Kazakh phrase (1-2.5 s, cut at a pause from a spontaneous Kazakh clip),
  a Russian sentence, another Kazakh phrase, 0.5 s apart: each passage in its language.

    .venv/bin/python benchmarks/eval_language.py [--eval-dir DIR] [--quick]
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import numpy as np

from common import EVAL_DIR
from kazru_stt.engines.whisper import get_engine
from kazru_stt.media import load_audio
from kazru_stt.media.encode import write_wav
from kazru_stt.pipeline import TranscribeOptions, transcribe_file
from kazru_stt.pipeline.speech_regions import find_speech
from lid_material import cut_at_pauses

RATE = 16000
_WORD = re.compile(r"\w+")


def repeated_unit(text: str, max_unit: int = 12) -> str | None:
    """A unit of 1..max_unit words said three times in a row, if any."""
    words = _WORD.findall(text.lower())
    for n in range(1, max_unit + 1):
        for i in range(len(words) - 3 * n + 1):
            unit = words[i : i + n]
            if words[i + n : i + 2 * n] == unit and words[i + 2 * n : i + 3 * n] == unit:
                return " ".join(unit)
    return None


def kazakh_phrases(rows: list[dict], eval_dir: Path) -> list[np.ndarray]:
    """The first 1-2.5 s piece, cut at a pause, of each spontaneous Kazakh clip."""
    out = []
    for row in rows:
        if row["lang"] != "kk" or "kk_cs" not in row["audio"]:
            continue
        audio = load_audio(eval_dir / row["audio"])
        regions = find_speech(audio, 0.0)
        if regions:
            r = regions[0]
            pieces = cut_at_pauses(audio[int(r.start * RATE) : int(r.end * RATE)], 1.0, 2.5)
            if pieces:
                out.append(pieces[0])
    return out


def built_files(rows: list[dict], eval_dir: Path, tmp: Path):
    phrases = kazakh_phrases(rows, eval_dir)
    russian = [r for r in rows if r["lang"] == "ru" and 2.0 <= (r.get("duration_s") or 0) <= 9]
    gap = np.zeros(int(0.5 * RATE), dtype=np.float32)
    for k in range(min(len(phrases) - 1, len(russian))):
        parts = [phrases[k], load_audio(eval_dir / russian[k]["audio"]), phrases[k + 1]]
        spans, t = [], 0.0
        for part in parts:
            spans.append((t, t + part.size / RATE))
            t += (part.size + gap.size) / RATE
        audio = np.concatenate([x for part in parts for x in (part, gap)])
        path = write_wav(tmp / f"kk-ru-kk-{k}.wav", audio)
        yield path, spans, ["kk", "ru", "kk"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", type=Path, default=EVAL_DIR)
    ap.add_argument("--quick", action="store_true", help="built files only")
    args = ap.parse_args()
    import json

    manifest = args.eval_dir / "manifest.jsonl"
    rows = [json.loads(line) for line in manifest.open(encoding="utf-8") if line.strip()]
    engine = get_engine(None, Path("/tmp/kazru-bench-models"), device="cpu")
    options = TranscribeOptions()
    problems: list[str] = []
    if not args.quick:
        counts = {"passages": 0, "without language": 0, "kk/ru as en": 0, "en kept": 0, "en": 0}
        for row in rows:
            if row["lang"] not in ("kk", "ru", "en", "kk+ru"):
                continue
            t = transcribe_file(args.eval_dir / row["audio"], options, engine)
            for s in t.segments:
                counts["passages"] += 1
                if not s.language:
                    counts["without language"] += 1
                    problems.append(f"{row['id']}: {s.start:.1f}-{s.end:.1f} s has no language")
                if row["lang"] != "en" and s.language == "en":
                    counts["kk/ru as en"] += 1
                    problems.append(f"{row['id']}: {s.start:.1f} s labelled English: {s.text}")
                if row["lang"] == "en" and s.text:
                    counts["en"] += 1
                    counts["en kept"] += s.language == "en"
            unit = repeated_unit(t.text)
            if unit and not repeated_unit(row.get("text") or ""):
                problems.append(f"{row['id']}: '{unit}' three times in a row")
            print(f"{row['id']:36} {row['lang']:5} {' '.join(t.languages):8} {t.text[:70]}")
        print(counts)
    in_order, right, total = 0, 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for path, spans, expected in built_files(rows, args.eval_dir, Path(tmp)):
            t = transcribe_file(path, options, engine)
            got = []
            for (a, b), lang in zip(spans, expected, strict=True):
                inside = {s.language for s in t.segments if a <= (s.start + s.end) / 2 <= b}
                got.append("/".join(sorted(inside)) or "-")
                right += inside == {lang}
                total += 1
            in_order += got == expected
            if got != expected:
                problems.append(f"{path.name}: {' '.join(got)}: {t.text[:80]}")
            print(f"{path.name:14} {' '.join(got):12} {t.text[:80]}")
    print(f"\nbuilt kk-ru-kk files in order: {in_order}/{total // 3}; passages {right}/{total}")
    print(f"problems ({len(problems)}):")
    for p in problems:
        print(f"  {p}")


if __name__ == "__main__":
    main()
