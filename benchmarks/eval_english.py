"""English recordings with the default Kazakh/Russian set: what automatic language makes
of them (labels, loops) and, where there is a reference, WER beside `--language en`.

    .venv/bin/python benchmarks/eval_english.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from common import EVAL_DIR, manifest
from kazru_stt.domain.text_compare import error_counts
from kazru_stt.engines.whisper import get_engine
from kazru_stt.pipeline import TranscribeOptions, transcribe_file
from kazru_stt.pipeline.guards import is_loop


def main() -> None:
    engine = get_engine(None, Path(tempfile.gettempdir()) / "kazru-bench-models", device="cpu")
    rows = [r for r in manifest() if r["lang"] == "en"]
    print(
        f"{'recording':24} {'min':>5} {'mode':5} {'WER':>6} {'time':>6}  labels (seconds)  looped kk/ru"
    )
    for row in rows:
        path = EVAL_DIR / row["audio"]
        for language in ("auto", "en"):
            started = time.perf_counter()
            t = transcribe_file(path, TranscribeOptions(language=language), engine)
            took = time.perf_counter() - started
            seconds: dict[str, float] = {}
            for s in t.segments:
                label = s.language if s.text else f"{s.language}(empty)"
                seconds[label] = seconds.get(label, 0.0) + s.end - s.start
            looped = sum(
                1 for s in t.segments if s.language in ("kk", "ru") and s.text and is_loop(s.text)
            )
            wer = "   -  "
            if row["text"]:
                c = error_counts(row["text"], t.text)
                wer = f"{c.word_errors / c.ref_words:6.3f}"
            labels = " ".join(f"{k}:{v:.0f}" for k, v in sorted(seconds.items()))
            print(
                f"{row['id'][:24]:24} {row['duration_s'] / 60:5.1f} {language:5} {wer} "
                f"{took:6.1f}  {labels:16}  {looped}"
            )


if __name__ == "__main__":
    main()
