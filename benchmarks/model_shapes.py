"""Speed and memory of Whisper's sizes on this machine, from random weights of each real
shape (what a model costs to run does not depend on its weights): base, small, medium,
large-v3-turbo, large-v3, converted as `kazru model import` converts (CTranslate2, int8 on
a CPU), each measured in a process of its own.

Measured: the encoder on one 30 s window, and the decoder's cost per token at beam 1 and 5
(a random model never stops, so every decode writes the same number of tokens). The
real-time factor is then given for speech written at 4 tokens a second (Russian read at
~2.5 words a second; Kazakh letters cost two tokens each, so Kazakh runs slower), one 30 s
window at a time, and the peak memory of the process (RSS) while it ran.

    .venv/bin/python benchmarks/model_shapes.py [--sizes base,small] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import ROOT  # noqa: F401  (puts src on the path)

SHAPES = {
    # d_model, encoder layers, decoder layers, heads, mel bins, vocabulary (openai/whisper)
    "base": (512, 6, 6, 8, 80, 51865),
    "small": (768, 12, 12, 12, 80, 51865),
    "medium": (1024, 24, 24, 16, 80, 51865),
    "large-v3-turbo": (1280, 32, 4, 20, 128, 51866),
    "large-v3": (1280, 32, 32, 20, 128, 51866),
}
TOKENS_PER_SECOND = 4
DECODED = 60  # tokens a decode writes (a random model never ends one itself)


def tokenizer_for(vocab: int) -> dict:
    """Base's tokenizer (bundled), or large-v3's made from it."""
    from tests.tiny_whisper import v3_tokenizer  # importable once common ran

    from kazru_stt.engines.model_store import bundled_model_dir

    base = bundled_model_dir(Path(tempfile.gettempdir()) / "kazru-bench-models")
    tok = json.loads((base / "tokenizer.json").read_text())
    return tok if vocab == 51865 else v3_tokenizer(tok)


def build(name: str, root: Path) -> Path:
    import ctranslate2
    import torch
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    d, enc, dec, heads, mels, vocab = SHAPES[name]
    out = root / name
    if (out / "model.bin").is_file():
        return out
    config = WhisperConfig(
        vocab_size=vocab,
        d_model=d,
        encoder_layers=enc,
        decoder_layers=dec,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        encoder_ffn_dim=4 * d,
        decoder_ffn_dim=4 * d,
        num_mel_bins=mels,
    )
    torch.manual_seed(0)
    hf = root / f"{name}-hf"
    WhisperForConditionalGeneration(config).half().save_pretrained(hf)
    (hf / "tokenizer.json").write_text(json.dumps(tokenizer_for(vocab)), encoding="utf-8")
    converter = ctranslate2.converters.TransformersConverter(
        str(hf), copy_files=["tokenizer.json"], load_as_float16=True
    )
    converter.convert(str(out), quantization="int8", force=True)
    for f in hf.iterdir():
        f.unlink()
    hf.rmdir()
    return out


def measure(model_dir: Path, threads: int) -> dict:
    """In this process: load, encode a window, decode DECODED tokens at beam 1 and 5."""
    import ctranslate2

    started = time.perf_counter()
    model = ctranslate2.models.Whisper(
        str(model_dir), device="cpu", compute_type="int8", intra_threads=threads
    )
    load_s = time.perf_counter() - started
    features = np.random.default_rng(0).standard_normal((1, model.n_mels, 3000), np.float32)
    window = ctranslate2.StorageView.from_array(features)
    model.encode(window)  # warm-up
    started = time.perf_counter()
    for _ in range(2):
        encoded = model.encode(window)
    encode_s = (time.perf_counter() - started) / 2
    prompt = [[50258, 50259, 50360 if model.n_mels == 128 else 50359]]
    per_token = {}
    for beam in (1, 5):
        started = time.perf_counter()
        [result] = model.generate(
            encoded,
            prompt,
            beam_size=beam,
            max_length=DECODED + len(prompt[0]),
            suppress_tokens=[-1, 50257],  # no end of text: every decode writes DECODED
        )
        written = max(len(result.sequences_ids[0]), 1)
        per_token[beam] = (time.perf_counter() - started) / written
    spoken = 30 * TOKENS_PER_SECOND
    return {
        "load_s": load_s,
        "encode_s": encode_s,
        "token_ms": {b: 1000 * t for b, t in per_token.items()},
        "rtf": {b: (encode_s + spoken * t) / 30 for b, t in per_token.items()},
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "size_mb": sum(f.stat().st_size for f in model_dir.iterdir()) / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=",".join(SHAPES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "kazru-shapes")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.threads)))
        return
    args.root.mkdir(parents=True, exist_ok=True)
    print(f"{args.threads} threads, int8, {TOKENS_PER_SECOND} tokens/s of speech, 30 s windows")
    print(
        f"{'shape':15} {'size MB':>8} {'load s':>7} {'enc s':>6} {'tok ms b1/b5':>13} "
        f"{'RTF b1':>7} {'RTF b5':>7} {'peak MB':>8}"
    )
    for name in args.sizes.split(","):
        model_dir = build(name, args.root)
        child = subprocess.run(
            [sys.executable, __file__, "--measure", str(model_dir), "--threads", str(args.threads)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(child.stdout.strip().splitlines()[-1])
        print(
            f"{name:15} {r['size_mb']:8.0f} {r['load_s']:7.1f} {r['encode_s']:6.2f} "
            f"{r['token_ms']['1']:6.1f}/{r['token_ms']['5']:<6.1f} {r['rtf']['1']:7.2f} "
            f"{r['rtf']['5']:7.2f} {r['peak_rss_mb']:8.0f}"
        )


if __name__ == "__main__":
    main()
