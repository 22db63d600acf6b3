"""WER/CER per language, language-of-passage accuracy and speed: our pipeline vs raw
faster-whisper (`WhisperModel.transcribe` with default options, language detected by the
model) on the same model and clips, in one process.

    .venv/bin/python benchmarks/eval_pipeline.py [--quick]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import jiwer
import numpy as np

from common import EVAL_DIR, manifest, normalize
from kazru_stt.engines.whisper import get_engine
from kazru_stt.media import load_audio
from kazru_stt.media.encode import write_wav
from kazru_stt.pipeline import TranscribeOptions, transcribe_file


def built_conversations(tmp: Path) -> list[dict]:
    """Code-switched files from real clips: passages with known language and span."""
    kk_words = [
        EVAL_DIR / "kk" / f"kscd_word_{w}.wav"
        for w in ("bes", "eki", "jur", "oqy", "solga", "toqta")
    ]
    plans = {
        "ru-kk-ru": [
            ["ru/riva_sample.wav"],
            ["kk/kscd_example_1.wav"],
            ["ru/tinkoff_sample_4.wav"],
        ],
        "kk-ru": [["kk/kscd_example_1.wav"], ["ru_lid/common_voice_ru_22413357.mp3"]],
        "ru-kk": [["ru/tinkoff_sample_1.mp3"], ["kk/kscd_example_1.wav"]],
        "kkwords-ru": [kk_words, ["ru/golos_001ce26c.wav"]],
        "ru-kk-ru-kk": [
            ["ru_lid/common_voice_ru_22425542.mp3"],
            ["kk/kscd_example_1.wav"],
            ["ru/vosk_commands.wav"],
            kk_words,
        ],
    }
    langs = {
        "ru-kk-ru": "ru kk ru",
        "kk-ru": "kk ru",
        "ru-kk": "ru kk",
        "kkwords-ru": "kk ru",
        "ru-kk-ru-kk": "ru kk ru kk",
    }
    out = []
    for name, passages in plans.items():
        clips = [c if isinstance(c, Path) else EVAL_DIR / c for group in passages for c in group]
        if not all(c.is_file() for c in clips):
            continue  # another eval set (e.g. one exported from reviewed transcripts)
        pieces, spans, t = [], [], 0.0
        for clip_list in passages:
            start = t
            for clip in clip_list:
                a = load_audio(clip if isinstance(clip, Path) else EVAL_DIR / clip)
                gap = np.zeros(int((0.3 if len(clip_list) > 1 else 0.8) * 16000), np.float32)
                pieces += [a, gap]
                t += (a.size + gap.size) / 16000
            spans.append((start, t))
        path = write_wav(tmp / f"{name}.wav", np.concatenate(pieces))
        out.append(
            {
                "id": f"built_{name}",
                "path": path,
                "passages": list(zip(spans, langs[name].split(), strict=True)),
            }
        )
    return out


def passage_accuracy(segments, passages) -> tuple[float, float]:
    """Seconds of passage speech labelled with the right language, and seconds labelled."""
    right = total = 0.0
    for (a, b), lang in passages:
        for s in segments:
            overlap = max(0.0, min(b, s["end"]) - max(a, s["start"]))
            total += overlap
            right += overlap if s["language"] == lang else 0.0
    return right, total


def run_raw(model, path: Path):
    t = time.perf_counter()
    segments, info = model.transcribe(str(path))
    segs = [
        {"start": s.start, "end": s.end, "text": s.text, "language": info.language}
        for s in segments
    ]
    return segs, time.perf_counter() - t, info.language


def run_ours(engine, path: Path, language: str):
    t = time.perf_counter()
    tr = transcribe_file(path, TranscribeOptions(language=language), engine)
    segs = [
        {"start": s.start, "end": s.end, "text": s.text, "language": s.language}
        for s in tr.segments
    ]
    return segs, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip the 20 language-id-only clips")
    args = ap.parse_args()
    engine = get_engine(None, Path(tempfile.gettempdir()) / "kazru-bench-models", device="cpu")
    model = engine.model
    rows = [r for r in manifest() if r["lang"] in ("kk", "ru", "kk+ru")]
    if args.quick:
        rows = [r for r in rows if r["text"]]
    tmp = Path(tempfile.mkdtemp())
    items = [
        {
            "id": r["id"],
            "path": EVAL_DIR / r["audio"],
            "lang": r["lang"],
            "text": r["text"],
            "passages": [((0.0, 1e9), r["lang"])] if r["lang"] != "kk+ru" else None,
        }
        for r in rows
    ]
    for it in items:
        if it["lang"] == "kk+ru":  # mixed_kk_ru.wav: Kazakh 0-5.04 s, 0.5 s silence, Russian
            it["passages"] = [((0.0, 5.3), "kk"), ((5.3, 1e9), "ru")]
    items += [dict(b, lang="kk+ru", text=None) for b in built_conversations(tmp)]

    model.transcribe(str(items[0]["path"]))  # warm-up, not timed
    stats = {k: {"hyp_ours": [], "hyp_raw": [], "ref": []} for k in ("kk", "ru")}
    time_given = {"ours": 0.0, "raw": 0.0}
    time_auto = {"ours": 0.0, "raw": 0.0}
    lid = {"ours": [0.0, 0.0], "raw": [0.0, 0.0]}
    audio_s = 0.0
    print(
        f"{'clip':34} {'lang':5} {'ours auto':>9} {'ours lang':>9} {'raw':>7}  raw-lang  our languages"
    )
    for it in items:
        dur = load_audio(it["path"]).size / 16000
        audio_s += dur
        raw_segs, t_raw, raw_lang = run_raw(model, it["path"])
        ours_auto, t_auto = run_ours(engine, it["path"], "auto")
        t_given = None
        if it["lang"] in ("kk", "ru"):
            ours_given, t_given = run_ours(engine, it["path"], it["lang"])
            time_given["ours"] += t_given
            time_given["raw"] += t_raw
            if it["text"]:
                s = stats[it["lang"]]
                s["ref"].append(normalize(it["text"]))
                s["hyp_ours"].append(normalize(" ".join(x["text"] for x in ours_auto)))
                s["hyp_raw"].append(normalize(" ".join(x["text"] for x in raw_segs)))
        time_auto["ours"] += t_auto
        time_auto["raw"] += t_raw
        passages = it["passages"]
        for key, segs in (("ours", ours_auto), ("raw", raw_segs)):
            if key == "raw" and not segs:  # raw labels the file even when it decodes nothing
                segs = [{"start": 0.0, "end": dur, "language": raw_lang}]
            if key == "ours" and not segs:
                continue
            r, t = passage_accuracy(segs, passages)
            lid[key][0] += r
            lid[key][1] += t
        langs = " ".join(f"{s['language']}" for s in ours_auto) or "-"
        given = f"{t_given:9.2f}" if t_given is not None else f"{'':9}"
        print(
            f"{it['id'][:34]:34} {it['lang']:5} {t_auto:9.2f} {given} {t_raw:7.2f}  {raw_lang:8}  {langs}"
        )

    print("\nWER / CER per language (auto language; corpus-level over clips with references)")
    for lang, s in stats.items():
        if not s["ref"]:
            continue
        w_o, w_r = jiwer.wer(s["ref"], s["hyp_ours"]), jiwer.wer(s["ref"], s["hyp_raw"])
        c_o, c_r = jiwer.cer(s["ref"], s["hyp_ours"]), jiwer.cer(s["ref"], s["hyp_raw"])
        print(
            f"  {lang}: clips={len(s['ref'])}  WER ours={w_o:.3f} raw={w_r:.3f} ratio={w_o / max(w_r, 1e-9):.2f}"
            f"   CER ours={c_o:.3f} raw={c_r:.3f} ratio={c_o / max(c_r, 1e-9):.2f}"
        )
    print("\nLanguage of passage (share of passage speech time labelled right)")
    for key in ("ours", "raw"):
        r, t = lid[key]
        print(f"  {key:4}: {r / max(t, 1e-9):.1%} of {t:.0f} s")
    print(f"\nSpeed (seconds, sum over clips; audio {audio_s:.0f} s)")
    print(
        f"  language given: ours={time_given['ours']:.1f} raw={time_given['raw']:.1f} "
        f"ratio={time_given['ours'] / time_given['raw']:.2f}"
    )
    print(
        f"  automatic     : ours={time_auto['ours']:.1f} raw={time_auto['raw']:.1f} "
        f"ratio={time_auto['ours'] / time_auto['raw']:.2f}"
    )
    print(f"  real-time factor ours (auto): {time_auto['ours'] / audio_s:.3f}")


if __name__ == "__main__":
    main()
