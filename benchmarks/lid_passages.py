"""Language of passage on many short real passages, with held-out sources.

Builds passages from the real recordings in ../shared/eval: every Kazakh and Russian clip
whole, and cut at its quietest points into pieces of 0.5-2 s (short passages are where
language identification fails). For each passage it computes the evidence the pipeline
uses (Whisper's detector, the Russian decode's confidence, dictionary share, loops), then
evaluates decision rules with cross-validation that holds out whole sources (a recording
and every piece cut from it; the Kazakh words of one speaker count as one source), so no
score comes from a passage whose source took part in choosing the thresholds.

    .venv/bin/python benchmarks/lid_passages.py [--cache /tmp/lid-features.jsonl]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from common import EVAL_DIR, manifest
from kazru_stt.engines.whisper_local import get_engine
from kazru_stt.media import load_audio
from kazru_stt.pipeline import language as lid
from kazru_stt.pipeline.guards import clean_text, collapse_repeats
from kazru_stt.pipeline.speech_regions import find_speech

RATE = 16000
FRAME = 320  # 20 ms


def cut_at_pauses(audio: np.ndarray, lo_s: float = 0.5, hi_s: float = 2.0) -> list[np.ndarray]:
    """Pieces of lo..hi seconds, each cut at the quietest 20 ms frame in its window."""
    energy = np.array(
        [float(np.mean(audio[i : i + FRAME] ** 2)) for i in range(0, audio.size - FRAME, FRAME)]
    )
    pieces, start = [], 0
    lo, hi = int(lo_s * RATE / FRAME), int(hi_s * RATE / FRAME)
    while start + hi < energy.size:
        window = energy[start + lo : start + hi]
        cut = start + lo + int(np.argmin(window))
        pieces.append(audio[start * FRAME : cut * FRAME])
        start = cut
    if energy.size - start >= lo:
        pieces.append(audio[start * FRAME :])
    return pieces


def source_of(row: dict) -> str:
    # The six Kazakh words and the read sentence are one speaker.
    return "kscd" if "kscd" in row["id"] else row["id"]


def features(engine, audio: np.ndarray) -> dict:
    raw = engine.transcribe(audio, "ru")
    words, looped = [], False
    for seg in raw:
        cleaned = [w for w in seg.words if clean_text(w.text).strip()]
        kept = collapse_repeats(cleaned)
        looped |= len(kept) < len(cleaned)
        words += kept
    ev = lid.russian_evidence(words, looped)
    det = engine.detect_language(audio)
    top_other = max((p for c, p in det.items() if c not in ("ru", "kk")), default=0.0)
    return {
        "ru_logprob": None if math.isinf(ev.logprob) else ev.logprob,
        "known": lid._known(ev),
        "loop": ev.loop,
        "p_ru": det.get("ru", 0.0),
        "p_kk": det.get("kk", 0.0),
        "p_en": det.get("en", 0.0),
        "p_other": top_other,
        "text": ev.text[:60],
    }


def collect(cache: Path) -> list[dict]:
    if cache.exists():
        return [json.loads(line) for line in cache.open(encoding="utf-8")]
    engine = get_engine(None, Path("/tmp/kazru-bench-models"), device="cpu")
    rows = [r for r in manifest() if r["lang"] in ("kk", "ru")]
    out = []
    with cache.open("w", encoding="utf-8") as fh:
        for row in rows:
            audio = load_audio(EVAL_DIR / row["audio"])
            speech = [
                audio[int(r.start * RATE) : int(r.end * RATE)] for r in find_speech(audio, 0.0)
            ]
            passages = [("whole", np.concatenate(speech) if speech else audio)]
            for region in speech:
                passages += [("piece", p) for p in cut_at_pauses(region)]
            for kind, piece in passages:
                if piece.size < 0.3 * RATE:
                    continue
                rec = {
                    "source": source_of(row),
                    "id": row["id"],
                    "lang": row["lang"],
                    "kind": kind,
                    "seconds": piece.size / RATE,
                    **features(engine, piece),
                }
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                out.append(rec)
    return out


# --- decision rules -------------------------------------------------------------------


def rule_current(r: dict, t: dict) -> str:
    """The pipeline's rule, with thresholds `t`."""
    lp = r["ru_logprob"] if r["ru_logprob"] is not None else -math.inf
    settled = (
        r["seconds"] >= t["fast_min_s"]
        and not r["loop"]
        and lp >= t["fast_lp"]
        and r["known"] >= t["fast_known"]
    )
    if settled:
        return "ru"
    decent = not r["loop"] and lp >= t["decent_lp"] and r["known"] >= t["decent_known"]
    if r["p_ru"] >= t["ru_sure"] or (r["p_ru"] >= t["ru_maybe"] and decent):
        return "ru"
    return "kk"


GRID = {
    "fast_min_s": [0.0, 1.0, 2.0],
    "fast_lp": [-0.2, -0.3, -0.45],
    "fast_known": [0.8, 0.9],
    "decent_lp": [-0.35, -0.45, -0.6],
    "decent_known": [0.6, 0.7, 0.8],
    "ru_sure": [0.3, 0.4, 0.5, 0.6],
    "ru_maybe": [0.1, 0.15, 0.2, 0.3],
}
CURRENT = {
    "fast_min_s": lid.FAST_RU_MIN_S,
    "fast_lp": lid.FAST_RU_MIN_LOGPROB,
    "fast_known": lid.FAST_RU_MIN_KNOWN,
    "decent_lp": lid.DECENT_RU_MIN_LOGPROB,
    "decent_known": lid.DECENT_RU_MIN_KNOWN,
    "ru_sure": lid.DETECTOR_RU_SURE,
    "ru_maybe": lid.DETECTOR_RU_MAYBE,
}


def balanced_accuracy(recs: list[dict], t: dict) -> float:
    by = {"kk": [0, 0], "ru": [0, 0]}
    for r in recs:
        by[r["lang"]][0] += rule_current(r, t) == r["lang"]
        by[r["lang"]][1] += 1
    return float(np.mean([a / n for a, n in by.values() if n]))


def fit(recs: list[dict]) -> dict:
    """Thresholds with the best balanced accuracy on `recs` (coordinate search from the
    current ones, two rounds: the full grid is too large to walk)."""
    best = dict(CURRENT)
    for _ in range(2):
        for name, values in GRID.items():
            scored = [(balanced_accuracy(recs, {**best, name: v}), v) for v in values]
            best[name] = max(scored, key=lambda sv: (sv[0], -abs(sv[1] - CURRENT[name])))[1]
    return best


def report(name: str, recs: list[dict], predicted: list[str]) -> None:
    def acc(sel):
        pairs = [(p, r) for p, r in zip(predicted, recs, strict=True) if sel(r)]
        if not pairs:
            return "   -   "
        right = sum(p == r["lang"] for p, r in pairs)
        return f"{right / len(pairs):6.1%} ({len(pairs)})"

    print(
        f"{name:26} all {acc(lambda r: True)}  kk {acc(lambda r: r['lang'] == 'kk')}  "
        f"ru {acc(lambda r: r['lang'] == 'ru')}  <=2s {acc(lambda r: r['seconds'] <= 2)}  "
        f"2-10s {acc(lambda r: 2 < r['seconds'] <= 10)}  >10s {acc(lambda r: r['seconds'] > 10)}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, default=Path("/tmp/kazru-lid-features.jsonl"))
    args = ap.parse_args()
    recs = collect(args.cache)
    sources = sorted({r["source"] for r in recs})
    kk_sources = sorted({r["source"] for r in recs if r["lang"] == "kk"})
    ru_sources = sorted({r["source"] for r in recs if r["lang"] == "ru"})
    print(
        f"{len(recs)} passages ({sum(r['lang'] == 'kk' for r in recs)} kk, "
        f"{sum(r['lang'] == 'ru' for r in recs)} ru) from {len(sources)} sources "
        f"({len(kk_sources)} kk, {len(ru_sources)} ru)\n"
    )
    report("detector alone P(ru)>=.4", recs, ["ru" if r["p_ru"] >= 0.4 else "kk" for r in recs])
    report("pipeline's thresholds", recs, [rule_current(r, CURRENT) for r in recs])
    # Leave-sources-out: 5 folds, each holding out a fifth of the Kazakh and of the Russian
    # sources; thresholds fitted on the rest, scored on the held-out fold only.
    folds = 5
    held = {s: i % folds for i, s in enumerate(kk_sources)}
    held.update({s: i % folds for i, s in enumerate(ru_sources)})
    predicted = [""] * len(recs)
    chosen = []
    for k in range(folds):
        train = [r for r in recs if held[r["source"]] != k]
        t = fit(train)
        chosen.append(t)
        for i, r in enumerate(recs):
            if held[r["source"]] == k:
                predicted[i] = rule_current(r, t)
    report("refitted, held-out sources", recs, predicted)
    print("\nthresholds per fold:")
    for t in chosen:
        print("  ", {k: v for k, v in t.items() if v != CURRENT[k]} or "as the pipeline's")


if __name__ == "__main__":
    main()
