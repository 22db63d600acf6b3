"""Tiny Whisper checkpoints with random weights, in the Transformers layout `kazru model
import` reads: the shape is real (mel bins, vocabulary, language tokens, layers), the words
are not. The tokenizer is the bundled model's, or large-v3's made from it."""

from __future__ import annotations

import json
from pathlib import Path

YUE_ID = 50358  # large-v3 put Cantonese after <|su|>: translate, transcribe… moved up one
V3_FEATURES = {
    "feature_size": 128,
    "sampling_rate": 16000,
    "hop_length": 160,
    "chunk_length": 30,
    "n_fft": 400,
    "n_samples": 480000,
    "nb_max_frames": 3000,
}


def v3_tokenizer(base: dict) -> dict:
    """large-v3's tokenizer from base's: <|yue|> inserted, the special tokens after it moved."""
    tok = json.loads(json.dumps(base))
    for token in tok["added_tokens"]:
        if token["id"] >= YUE_ID:
            token["id"] += 1
    yue = {**tok["added_tokens"][0], "id": YUE_ID, "content": "<|yue|>"}
    tok["added_tokens"] = sorted([*tok["added_tokens"], yue], key=lambda t: t["id"])
    for special in tok["post_processor"]["special_tokens"].values():
        special["ids"] = [i + 1 if i >= YUE_ID else i for i in special["ids"]]
    return tok


def tiny_checkpoint(
    out: Path,
    bundled_dir: Path,
    *,
    v3: bool = False,
    encoder_layers: int = 1,
    decoder_layers: int = 1,
) -> Path:
    """A checkpoint of base's shape (80 mel bins, 99 languages) or, with `v3`, large-v3's
    (128 mel bins, 100 languages), d_model 64, saved under `out`."""
    import torch
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    base = json.loads((bundled_dir / "tokenizer.json").read_text())
    tokenizer = v3_tokenizer(base) if v3 else base
    config = WhisperConfig(
        vocab_size=51866 if v3 else 51865,
        d_model=64,
        encoder_layers=encoder_layers,
        decoder_layers=decoder_layers,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        num_mel_bins=128 if v3 else 80,
    )
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(config)
    # The language tokens, as a real checkpoint's generation config lists them (the
    # converter writes them into the model, and language detection reads them): those
    # from <|en|> to the last language token.
    first = next(t["id"] for t in tokenizer["added_tokens"] if t["content"] == "<|en|>")
    last = YUE_ID if v3 else YUE_ID - 1
    languages = [t for t in tokenizer["added_tokens"] if first <= t["id"] <= last]
    assert len(languages) == (100 if v3 else 99)
    model.generation_config.lang_to_id = {t["content"]: t["id"] for t in languages}
    model.save_pretrained(out)
    (out / "tokenizer.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    if v3:
        (out / "preprocessor_config.json").write_text(json.dumps(V3_FEATURES))
    return out
