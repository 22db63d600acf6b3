"""Kazakh (with Russian words inside) scored as the public code-switching benchmark scores
it, on its half in ../shared/eval/kk_cs: per clip the better of the verbatim and the
normalized reference, lower-case, no punctuation, numbers spelled out in Kazakh; WER and
CER corpus-level. Printed beside the figures the benchmark published on all 31 clips.

    .venv/bin/python benchmarks/eval_kk_cs.py                      # local, bundled model
    .venv/bin/python benchmarks/eval_kk_cs.py --model /models/kk-turbo
    KAZRU_YANDEX_API_KEY=... .venv/bin/python benchmarks/eval_kk_cs.py --engine yandex

Both the automatic language (kk,ru per passage) and the language given (kk) are run, and
their times compared. Kazakh often falls back to sampling (temperatures 0.2, 0.4), whose
length varies from run to run, so one clip's time does too: `--repeat N` runs each clip N
times per mode and sums the times (WER from the first run).
"""

from __future__ import annotations

import argparse
import re
import time

from common import EVAL_DIR, manifest
from kazru_stt.config import Settings
from kazru_stt.domain.kazakh_numbers import spell_numbers
from kazru_stt.domain.text_compare import ErrorCounts, error_counts, normalize
from kazru_stt.pipeline import TranscribeOptions
from kazru_stt.services.engines import make_transcriber

PUBLISHED = [  # WER on all 31 clips, from the benchmark's own table
    ("Kazakh fine-tune of whisper-large-v3-turbo", 0.119),
    ("Yandex SpeechKit (kk-KZ)", 0.171),
    ("whisper-large-v3 (zero-shot)", 0.425),
    ("Google STT", 0.649),
]
_TAG = re.compile(r"\[[^\]]*\]")  # [false_start], [noise]...


def score_text(text: str) -> str:
    return normalize(spell_numbers(_TAG.sub(" ", text)))


def best_of(refs: list[str], hyp: str) -> ErrorCounts:
    """The reference the hypothesis matches better (fewer word errors, then characters)."""
    scored = [error_counts(score_text(r), score_text(hyp)) for r in refs if r]
    return min(scored, key=lambda c: (c.word_errors, c.char_errors))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", default="local", choices=["local", "yandex"])
    ap.add_argument("--model", default=None, help="a CTranslate2 Whisper directory (local)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per clip and mode, timed")
    args = ap.parse_args()
    settings = Settings(yandex_fallback=False)  # figures of the engine asked for, or none
    transcribe = make_transcriber(settings, model=args.model)
    rows = [r for r in manifest() if r["audio"].startswith("kk_cs/")]
    if not rows:
        raise SystemExit(f"no kk_cs clips under {EVAL_DIR}")

    def run(row, language):
        options = TranscribeOptions(language=language, engine=args.engine)
        started = time.perf_counter()
        t = transcribe(EVAL_DIR / row["audio"], options, None)
        return t, time.perf_counter() - started

    run(rows[0], "kk")  # warm-up (model load), not timed
    totals = {"auto": ErrorCounts(), "kk": ErrorCounts()}
    seconds = {"auto": 0.0, "kk": 0.0}
    audio_s = 0.0
    print(
        f"{'clip':18} {'dur':>5} {'ru words':8} {'WER auto':>8} {'WER kk':>7} {'t auto':>7} {'t kk':>6}  languages (auto)"
    )
    for row in rows:
        refs = [row["text"], row.get("text_normalized", "")]
        line = {}
        for language in ("auto", "kk"):
            transcript, took = run(row, language)
            for _ in range(args.repeat - 1):
                took += run(row, language)[1]
            counts = best_of(refs, transcript.text)
            totals[language] = totals[language] + counts
            seconds[language] += took
            line[language] = (counts, took, transcript)
        audio_s += row["duration_s"]
        wer = {k: v[0].word_errors / max(1, v[0].ref_words) for k, v in line.items()}
        langs = " ".join(s.language or "-" for s in line["auto"][2].segments)
        print(
            f"{row['id'][5:23]:18} {row['duration_s']:5.1f} {str(row.get('russian_words', False)):8} "
            f"{wer['auto']:8.3f} {wer['kk']:7.3f} {line['auto'][1]:7.2f} {line['kk'][1]:6.2f}  {langs}"
        )
    name = args.engine + (f" ({args.model})" if args.model else "")
    print(f"\nkk_cs, {len(rows)} clips, {audio_s / 60:.1f} min, engine {name}:")
    for language, c in totals.items():
        print(
            f"  language {language:4}: WER {c.word_errors / c.ref_words:.3f}  "
            f"CER {c.char_errors / c.ref_chars:.3f}  ({c.ref_words} reference words)"
        )
    print(
        f"  time: auto {seconds['auto']:.1f} s, kk given {seconds['kk']:.1f} s, "
        f"ratio {seconds['auto'] / seconds['kk']:.2f}"
    )
    print("\nPublished on all 31 clips (this folder holds half of them):")
    for system, wer in PUBLISHED:
        print(f"  {system:44} WER {wer:.3f}")


if __name__ == "__main__":
    main()
