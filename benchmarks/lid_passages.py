"""Language of passage on many short real passages, with held-out sources.

Builds passages from the real recordings in ../shared/eval: every Kazakh and Russian clip
whole, and cut at its quietest points into pieces of 0.5-2 s (short passages are where
language identification fails). For each passage it computes the evidence the pipeline
uses (Whisper's detector, the Russian decode's confidence, dictionary share, loops), then
evaluates decision rules with cross-validation that holds out whole sources (a recording
and every piece cut from it; the Kazakh words of one speaker count as one source), so no
score comes from a passage whose source took part in choosing the thresholds.

The pipeline reads Whisper's detector for a passage in one of two ways: from its 30 s
window's encoding (a passage alone in its window) or from the passage's own audio, cut to
its length (`whisper_local.detector_frames`; a passage that shared its window). Both reads
are collected; the rule is fitted on the two together, and scored on each.

    .venv/bin/python benchmarks/lid_passages.py [--cache /tmp/lid-features.jsonl]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from common import EVAL_DIR, manifest
from kazru_stt.engines.whisper_local import GREEDY_ONLY, EncoderReuse, get_engine
from kazru_stt.media import load_audio
from kazru_stt.pipeline import language as lid
from kazru_stt.pipeline.batched_decode import WINDOW_S
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


def distinct(recs: list[dict]) -> list[dict]:
    """Without the pieces that are their whole clip (one region under 2 s: the same audio,
    counted once)."""
    whole = {(r["id"], round(r["seconds"], 3)) for r in recs if r["kind"] == "whole"}
    return [
        r for r in recs if r["kind"] == "whole" or (r["id"], round(r["seconds"], 3)) not in whole
    ]


def source_of(row: dict) -> str:
    # The six Kazakh words and the read sentence are one speaker.
    return "kscd" if "kscd" in row["id"] else row["id"]


def features(engine, audio: np.ndarray) -> dict:
    """The evidence as the pipeline's first pass gets it: a greedy Russian decode of the
    passage as one window (at beam 1 where the detector does not call it Russian), Whisper's
    detector read from that window's encoding; and the detector's own read of the passage
    (`p_*_own`), as a passage that shared its window gets it."""
    seconds = audio.size / RATE
    own = engine.detect_language(audio)
    if seconds <= WINDOW_S:
        reuse = EncoderReuse(evidence_below=lid.EVIDENCE_ONLY_BELOW)
        [raw] = engine.transcribe_clips(audio, [(0.0, seconds)], "ru", reuse=reuse, detect=True)
        det = reuse.detected[0]
    else:  # longer than a region can be: decoded window by window, detector on the first
        raw = engine.transcribe(audio, "ru", temperatures=GREEDY_ONLY)
        det = own  # the first 30 s read whole either way
    words, looped = [], False
    for seg in raw:
        cleaned = [w for w in seg.words if clean_text(w.text).strip()]
        kept = collapse_repeats(cleaned)
        looped |= len(kept) < len(cleaned)
        words += kept
    ev = lid.russian_evidence(words, looped)
    top_other = max((p for c, p in det.items() if c not in ("ru", "kk")), default=0.0)
    return {
        "ru_logprob": None if math.isinf(ev.logprob) else ev.logprob,
        "known": lid._known(ev),
        "loop": ev.loop,
        "p_ru": det.get("ru", 0.0),
        "p_kk": det.get("kk", 0.0),
        "p_en": det.get("en", 0.0),
        "p_other": top_other,
        "p_ru_own": own.get("ru", 0.0),
        "p_kk_own": own.get("kk", 0.0),
        "text": ev.text[:60],
    }


def collect(cache: Path) -> list[dict]:
    if cache.exists() and cache.stat().st_size:
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


def own_read(r: dict) -> dict:
    """The passage with the detector's read of its own audio in place of its window's."""
    return {**r, "p_ru": r["p_ru_own"], "p_kk": r["p_kk_own"]}


def evidence_of(r: dict) -> lid.Evidence:
    logprob = r["ru_logprob"] if r["ru_logprob"] is not None else -math.inf
    detector = {"ru": r["p_ru"], "kk": r["p_kk"]}
    return lid.Evidence(logprob, r["text"], r["loop"], detector=detector)


def settled(r: dict) -> bool:
    ev = evidence_of(r)
    ev.known_share = r["known"]
    return lid.settled_as_russian(ev)


def pipeline_rule(r: dict, weights=lid.LID_WEIGHTS, bias=lid.LID_BIAS) -> str:
    """The pipeline's decision between Russian and Kazakh (fast path, then the model)."""
    if settled(r):
        return "ru"
    return "ru" if lid.p_russian(evidence_of(r), weights, bias) >= 0.5 else "kk"


def fit(recs: list[dict]) -> tuple[tuple, float]:
    """The logistic model on `recs`, classes weighted to balance."""
    from sklearn.linear_model import LogisticRegression

    x = np.array([lid.lid_features(evidence_of(r)) for r in recs])
    y = np.array([r["lang"] == "ru" for r in recs])
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(x, y)
    return tuple(round(float(c), 3) for c in model.coef_[0]), round(float(model.intercept_[0]), 3)


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
    ap.add_argument("--cache", type=Path, default=Path("/tmp/kazru-lid-features-v2.jsonl"))
    args = ap.parse_args()
    recs = distinct(collect(args.cache))
    sources = sorted({r["source"] for r in recs})
    kk_sources = sorted({r["source"] for r in recs if r["lang"] == "kk"})
    ru_sources = sorted({r["source"] for r in recs if r["lang"] == "ru"})
    print(
        f"{len(recs)} passages ({sum(r['lang'] == 'kk' for r in recs)} kk, "
        f"{sum(r['lang'] == 'ru' for r in recs)} ru) from {len(sources)} sources "
        f"({len(kk_sources)} kk, {len(ru_sources)} ru)\n"
    )
    own = [own_read(r) for r in recs]
    for name, rows in (("window's read", recs), ("own read", own)):
        report(f"detector alone, {name}", rows, ["ru" if r["p_ru"] >= 0.4 else "kk" for r in rows])
        report(f"as shipped, {name}", rows, [pipeline_rule(r) for r in rows])
    # Leave-sources-out: 5 folds, each holding out a fifth of the Kazakh and of the Russian
    # sources; the model fitted on the rest (both reads of each passage), scored on the
    # held-out fold only, on each read.
    folds = 5
    held = {s: i % folds for i, s in enumerate(kk_sources)}
    held.update({s: i % folds for i, s in enumerate(ru_sources)})
    predicted = {"window": [""] * len(recs), "own": [""] * len(recs)}
    for k in range(folds):
        weights, bias = fit([r for r in recs + own if held[r["source"]] != k])
        print(f"  fold {k}: weights {weights} bias {bias}")
        for i, r in enumerate(recs):
            if held[r["source"]] == k:
                predicted["window"][i] = pipeline_rule(r, weights, bias)
                predicted["own"][i] = pipeline_rule(own[i], weights, bias)
    report("held out, window's read", recs, predicted["window"])
    report("held out, own read", own, predicted["own"])
    weights, bias = fit(recs + own)
    print(f"\nfitted on all passages, both reads (what language.py ships): {weights} bias {bias}")


if __name__ == "__main__":
    main()
