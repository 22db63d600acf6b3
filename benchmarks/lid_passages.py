"""Language of passage on many short real passages, the shipped rule beside the baseline.

Passages come from the real recordings of an eval folder (`lid_material.py`: whole, cut at
pauses into 0.5-2 s and 2-6 s pieces, each also through a telephone line and re-encoded).
For each it reads what the pipeline reads: Whisper's detector from the passage's own 30 s
window (a passage alone in its window) and from its audio cut to its length (a passage
that shared its window), and a greedy Russian decode (for the candidate rule below).

Printed side by side, on the same passages, per read and per material:
- `detector`: the baseline that has held on every unseen set so far: Whisper's detector
  restricted to Kazakh and Russian, P(ru) >= 0.40 -> ru, else kk;
- `shipped`: `language.choose` as the pipeline calls it (allowed kk, ru; English as a third
  language), so an English label on a kk/ru passage counts as wrong;
- `+ru decode`: a candidate, the baseline plus "a confident Russian decode of mostly
  dictionary words is Russian" (the fast path of earlier versions), to see whether that
  evidence earns its place.
Nothing in the shipped rule is fitted on this material, so every source is held out. The
neighbour rule is scored on built triples: a short passage (<= 2.5 s, own read) between two
whole passages of one language from two other sources.
English passages show the third-language gate: how many stay English, how many kk/ru
passages become English.

    .venv/bin/python benchmarks/lid_passages.py [--eval-dir DIR] [--cache FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import tempfile
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from common import EVAL_DIR, ROOT
from kazru_stt.domain.languages import DEFAULT_THIRD_LANGUAGES, KAZAKH_RUSSIAN
from kazru_stt.pipeline import language as lid
from kazru_stt.pipeline.guards import clean_text, collapse_repeats, is_loop

RATE = 16000


def _trim(probs: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in probs.items() if v >= 0.001 or k in ("ru", "kk", "en")}


@lru_cache(maxsize=1)
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="ru")


def russian_decode(raw) -> dict:
    """The greedy Russian decode as evidence: mean log word probability, the share of its
    words a Russian dictionary knows (Latin words count as unknown), whether it looped."""
    words, looped = [], False
    for seg in raw:
        cleaned = [w for w in seg.words if clean_text(w.text).strip()]
        kept = collapse_repeats(cleaned)
        looped |= len(kept) < len(cleaned)
        words += kept
    text = " ".join(w.text.strip() for w in words).strip()
    if not words:
        return {"ru_logprob": None, "ru_known": 0.0, "ru_loop": looped, "text": ""}
    cyrillic = re.findall(r"[а-яё]+", text.lower())
    latin = re.findall(r"[a-z]{2,}", text.lower())
    known = sum(_morph().word_is_known(w) for w in cyrillic) / max(len(cyrillic) + len(latin), 1)
    logprob = sum(math.log(max(w.probability, 1e-6)) for w in words) / len(words)
    return {
        "ru_logprob": logprob,
        "ru_known": known,
        "ru_loop": looped or is_loop(text),
        "text": text[:60],
    }


def collect(cache: Path, eval_dir: Path) -> list[dict]:
    from kazru_stt.engines.whisper import EncoderReuse, get_engine
    from lid_material import passages

    done = []
    if cache.exists():
        done = [json.loads(line) for line in cache.open(encoding="utf-8")]
    keys = {(r["id"], r["kind"], r["variant"], r["n"]) for r in done}
    rows = [json.loads(line) for line in (eval_dir / "manifest.jsonl").open(encoding="utf-8")]
    engine = get_engine(None, Path("/tmp/kazru-bench-models"), device="cpu")
    counter: dict[tuple, int] = defaultdict(int)
    with cache.open("a", encoding="utf-8") as fh, tempfile.TemporaryDirectory() as tmp:
        for p in passages(rows, eval_dir, Path(tmp)):
            if p.lang == "en" and p.variant != "clean":
                continue  # English is here for the third-language gate only
            n = counter[(p.id, p.kind, p.variant)]
            counter[(p.id, p.kind, p.variant)] += 1
            if (p.id, p.kind, p.variant, n) in keys:
                continue
            rec = {
                "source": p.source,
                "id": p.id,
                "lang": p.lang,
                "kind": p.kind,
                "variant": p.variant,
                "n": n,
                "seconds": round(p.seconds, 3),
                "own": _trim(engine.detect_language(p.audio)),
            }
            if p.variant == "clean" and p.lang != "en":
                # As the first pass reads it: the window's detector and a greedy Russian
                # decode (at beam 1 where the detector does not call the window Russian).
                reuse = EncoderReuse(evidence_below=lid.EVIDENCE_ONLY_BELOW)
                [raw] = engine.transcribe_clips(
                    p.audio, [(0.0, p.seconds)], "ru", reuse=reuse, detect=True
                )
                rec["window"] = _trim(reuse.detected[0])
                rec.update(russian_decode(raw))
            else:  # the same read without the decode: the passage padded to a 30 s window
                rec["window"] = _trim(dict(engine.model.detect_language(p.audio)[2]))
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            fh.flush()
            done.append(rec)
    return done


# --- rules ------------------------------------------------------------------------------


def detector_only(probs: dict[str, float]) -> str:
    return "ru" if probs.get("ru", 0.0) >= 0.40 else "kk"


def shipped(probs: dict[str, float], seconds: float) -> str:
    return lid.choose(probs, list(KAZAKH_RUSSIAN), list(DEFAULT_THIRD_LANGUAGES), seconds)


def with_russian_decode(probs: dict[str, float], r: dict) -> str:
    if "ru_known" not in r:  # decoded on clean material only
        return detector_only(probs)
    confident = r["ru_logprob"] is not None and r["ru_logprob"] >= -0.45
    if confident and r["ru_known"] >= 0.8 and not r["ru_loop"]:
        return "ru"
    return detector_only(probs)


# --- report -----------------------------------------------------------------------------

BUCKETS = {
    "all": lambda r: True,
    "kk": lambda r: r["lang"] == "kk",
    "ru": lambda r: r["lang"] == "ru",
    "<=2s": lambda r: r["seconds"] <= 2,
    "2-10s": lambda r: 2 < r["seconds"] <= 10,
}


def _acc(pairs: list[tuple[str, dict]]) -> str:
    if not pairs:
        return "      -       "
    right = sum(p == r["lang"] for p, r in pairs)
    return f"{right / len(pairs):6.1%} ({len(pairs):4})"


def table(title: str, recs: list[dict], rules: dict) -> dict[str, dict[str, float]]:
    print(f"\n{title}")
    print(f"{'rule':12}" + "".join(f"{b:>16}" for b in BUCKETS))
    scores: dict[str, dict[str, float]] = {}
    for name, rule in rules.items():
        predicted = [rule(r) for r in recs]
        cells, scores[name] = [], {}
        for bucket, sel in BUCKETS.items():
            pairs = [(p, r) for p, r in zip(predicted, recs, strict=True) if sel(r)]
            cells.append(_acc(pairs))
            if pairs:
                scores[name][bucket] = sum(p == r["lang"] for p, r in pairs) / len(pairs)
        print(f"{name:12}" + "".join(f"{c:>16}" for c in cells))
    return scores


def per_source(recs: list[dict], rules: dict) -> None:
    """Each source's accuracy under each rule: where the shipped rule loses, it shows."""
    print("\nper source (all variants and reads): " + " / ".join(rules))
    by_source = defaultdict(list)
    for r in recs:
        by_source[r["source"]].append(r)
    worse = []
    for source, rows in sorted(by_source.items()):
        accs = [sum(rule(r) == r["lang"] for r in rows) / len(rows) for rule in rules.values()]
        if accs[1] < accs[0]:
            worse.append(source)
        print(
            f"  {source:34} {rows[0]['lang']} {len(rows):4}  "
            + "  ".join(f"{a:6.1%}" for a in accs)
        )
    print(f"sources where the shipped rule is below the baseline: {worse or 'none'}")


def neighbours(recs: list[dict], reps: int = 4000, seed: int = 0) -> None:
    """A short passage between two whole passages of one language from two other sources
    (0.5 s apart, as in a conversation): its label alone (baseline) and by the shipped
    rule with its neighbours (`language.smooth_short`)."""
    rng = random.Random(seed)
    short = [r for r in recs if r["seconds"] <= lid.SHORT_PASSAGE_S and r["lang"] != "en"]
    whole = defaultdict(list)
    for r in recs:
        if r["kind"] == "whole" and r["lang"] != "en":
            whole[r["lang"]].append(r)
    stats = defaultdict(lambda: [0, 0, 0])  # (mid lang, context lang) -> n, alone, shipped
    for _ in range(reps):
        mid = rng.choice(short)
        context = rng.choice(("kk", "ru"))
        pool = [r for r in whole[context] if r["source"] != mid["source"]]
        left, right = rng.sample(pool, 2)
        spans = [(0.0, left["seconds"])]
        spans.append((spans[-1][1] + 0.5, spans[-1][1] + 0.5 + mid["seconds"]))
        spans.append((spans[-1][1] + 0.5, spans[-1][1] + 0.5 + right["seconds"]))
        # Left and right are read from their own windows' detector, the short one from its
        # own audio (it shares a window with them in a real file).
        probs = [left["window"], mid["own"], right["window"]]
        chosen = [shipped(p, s[1] - s[0]) for p, s in zip(probs, spans, strict=True)]
        final = lid.smooth_short(spans, chosen, probs)
        cell = stats[(mid["lang"], context)]
        cell[0] += 1
        cell[1] += detector_only(mid["own"]) == mid["lang"]
        cell[2] += final[1] == mid["lang"]
    print("\nshort passage between two of one language (own read): alone / shipped")
    for (mid_lang, context), (n, alone, ours) in sorted(stats.items()):
        print(f"  {mid_lang} between {context}: {alone / n:6.1%}  {ours / n:6.1%}  ({n})")
    n = sum(c[0] for c in stats.values())
    print(
        f"  all: {sum(c[1] for c in stats.values()) / n:6.1%}  "
        f"{sum(c[2] for c in stats.values()) / n:6.1%}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", type=Path, default=EVAL_DIR)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/kazru-lid-passages-v3.jsonl"))
    args = ap.parse_args()
    recs = collect(args.cache, args.eval_dir)
    kkru = [r for r in recs if r["lang"] in ("kk", "ru")]
    print(
        f"{len(kkru)} kk/ru passages ({sum(r['lang'] == 'kk' for r in kkru)} kk, "
        f"{sum(r['lang'] == 'ru' for r in kkru)} ru) from "
        f"{len({r['source'] for r in kkru})} sources; eval folder {args.eval_dir} "
        f"(nothing of the shipped rule is fitted here: every source is held out)"
    )
    worst: dict[str, float] = {}
    for read in ("window", "own"):
        rules = {
            "detector": lambda r, read=read: detector_only(r[read]),
            "shipped": lambda r, read=read: shipped(r[read], r["seconds"]),
            "+ru decode": lambda r, read=read: with_russian_decode(r[read], r),
        }
        for variant in ("clean", "phone", "opus", None):
            rows = [r for r in kkru if variant is None or r["variant"] == variant]
            scores = table(f"{read}'s read, {variant or 'all material'}", rows, rules)
            for bucket, value in scores["shipped"].items():
                gap = value - scores["detector"].get(bucket, value)
                worst[f"{read}/{variant or 'all'}/{bucket}"] = gap
    low = min(worst, key=worst.get)
    print(f"\nshipped minus detector, lowest cell: {low} {worst[low]:+.1%}")
    per_source(
        [{**r, "probs": r[read]} for r in kkru for read in ("window", "own")],
        {
            "detector": lambda r: detector_only(r["probs"]),
            "shipped": lambda r: shipped(r["probs"], r["seconds"]),
        },
    )
    neighbours(kkru)
    english = [r for r in recs if r["lang"] == "en"]
    if english:
        print("\nthird language (English), shipped rule:")
        for read in ("window", "own"):
            kept = sum(shipped(r[read], r["seconds"]) == "en" for r in english)
            long_ = [r for r in english if r["seconds"] > lid.SHORT_PASSAGE_S]
            kept_long = sum(shipped(r[read], r["seconds"]) == "en" for r in long_)
            taken = sum(shipped(r[read], r["seconds"]) == "en" for r in kkru)
            print(
                f"  {read}'s read: English passages English {kept}/{len(english)} "
                f"(over {lid.SHORT_PASSAGE_S} s: {kept_long}/{len(long_)}); "
                f"kk/ru passages labelled English {taken}/{len(kkru)}"
            )
    print(f"\n(material: {ROOT.name} benchmarks/lid_material.py)")


if __name__ == "__main__":
    main()
