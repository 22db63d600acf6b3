"""Does a vocabulary help? Term recall and the WER of everything else, with and without a
hint, on the eval recordings whose references hold rare words (a word of five letters or
more found in one reference only: names, places, products).

The terms come from the references of one half of the clips (by a hash of the id); both
halves are reported. On the half they came from, a clip's own terms are in the list (recall
should rise); on the other half they are not, so the list is only noise there (the WER must
not get worse). Two lists are tried: the whole list, as an account would keep it (the
engine reads as much as fits in its hint budget), and each clip's own terms only (what a
list kept to one case would give). Every word's time is checked to lie inside its passage
with the hint on (faster-whisper #853 reports hotwords breaking word times).

    .venv/bin/python benchmarks/vocabulary_terms.py [--max-clips N]
"""

from __future__ import annotations

import argparse
import hashlib
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

import jiwer
from tests.conftest import words_inside  # importable once common ran

from common import EVAL_DIR, manifest, normalize
from kazru_stt.domain.vocabulary import MAX_TERMS, hint_of
from kazru_stt.engines.whisper import get_engine
from kazru_stt.pipeline import TranscribeOptions, transcribe_file

WORD = re.compile(r"[^\W\d_][\w-]*", re.UNICODE)


def half(clip_id: str) -> str:
    return "A" if hashlib.sha1(clip_id.encode()).digest()[0] % 2 == 0 else "B"


def rare_words(clips: list[dict]) -> dict[str, list[str]]:
    """Each clip's rare words, as written in its reference."""
    words = {c["id"]: WORD.findall(c["text"]) for c in clips}
    df = Counter(w.casefold() for ws in words.values() for w in {x.casefold() for x in ws})
    return {
        cid: list(dict.fromkeys(w for w in ws if len(w) >= 5 and df[w.casefold()] == 1))
        for cid, ws in words.items()
    }


def recall(terms: list[str], hypothesis: str) -> tuple[int, int]:
    said = set(normalize(hypothesis).split())
    return sum(normalize(t) in said for t in terms), len(terms)


def rest_wer(reference: str, hypothesis: str, terms: list[str]) -> float:
    drop = {normalize(t) for t in terms}
    ref = " ".join(w for w in normalize(reference).split() if w not in drop)
    hyp = " ".join(w for w in normalize(hypothesis).split() if w not in drop)
    return jiwer.wer(ref, hyp) if ref else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-clips", type=int, default=0)
    args = parser.parse_args()
    clips = [
        c
        for c in manifest()
        if c.get("text") and c.get("lang") in ("kk", "ru") and (EVAL_DIR / c["audio"]).is_file()
    ]
    rare = rare_words(clips)
    clips = [c for c in clips if rare[c["id"]]]
    if args.max_clips:
        clips = clips[: args.max_clips]
    listed = [t for c in clips if half(c["id"]) == "A" for t in rare[c["id"]]][:MAX_TERMS]
    engine = get_engine(None, Path(tempfile.gettempdir()) / "kazru-bench-models", device="cpu")
    whole = engine.hinted(hint_of(listed))
    print(
        f"{len(clips)} clips with rare words; {len(listed)} terms listed from half A; "
        f"the engine reads {len(whole.hint or '')} characters of the list "
        f"({whole._hint_tokens} tokens)"
    )
    rows: dict[tuple[str, str, str], list] = {}
    times, inside = Counter(), Counter()
    for clip in clips:
        path = EVAL_DIR / clip["audio"]
        own = rare[clip["id"]]
        runs = {
            "none": engine,
            "whole list": whole,
            "own terms": engine.hinted(hint_of(own)),
        }
        for name, model in runs.items():
            started = time.perf_counter()
            t = transcribe_file(path, TranscribeOptions(), model)
            times[name] += time.perf_counter() - started
            inside[name] += words_inside(t)
            hyp = " ".join(s.text for s in t.segments)
            key = (half(clip["id"]), clip["lang"], name)
            rows.setdefault(key, []).append((*recall(own, hyp), rest_wer(clip["text"], hyp, own)))
    print(f"\n{'half':4} {'lang':4} {'hint':11} {'clips':>5} {'term recall':>12} {'WER rest':>9}")
    for (h, lang, name), values in sorted(rows.items()):
        hits = sum(v[0] for v in values)
        total = sum(v[1] for v in values)
        wer = sum(v[2] for v in values) / len(values)
        print(f"{h:4} {lang:4} {name:11} {len(values):5} {hits:5}/{total:<6} {wer:9.3f}")
    print()
    for name in times:
        print(
            f"{name:11}: {times[name]:6.1f} s, word times inside their passages in "
            f"{inside[name]}/{len(clips)} clips"
        )


if __name__ == "__main__":
    main()
