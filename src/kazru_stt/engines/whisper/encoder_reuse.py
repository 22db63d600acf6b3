"""Where we reach into faster-whisper's batched pipeline (its model object, as the pipeline
calls it): encoder outputs kept and reused across the decodes of a language choice, the
detector read from them, and beam 1 for the clips decoded as evidence only. These rely on
how `BatchedInferencePipeline` calls its model (`model.encode`, `model.model.generate`):
tests/unit/test_faster_whisper_contract.py checks each, and pyproject pins faster-whisper
below its next major."""

from __future__ import annotations

import hashlib

import numpy as np


class EncoderReuse:
    """One block's encoder outputs, kept by the features they came from, for the decodes
    of a language choice: the same windows decoded again in another language skip the
    encoder, and Whisper's detector is read from the outputs (one decoder step) instead of
    an encoder pass of its own per passage. The outputs are kept in host memory (CPU only:
    on a GPU the encoder is cheap) and go with this object."""

    def __init__(self, evidence_below: float = 0.0) -> None:
        self.outputs: dict[bytes, np.ndarray] = {}
        self.detected: list[dict[str, float]] = []  # per clip of the last call, in order
        self.reused = 0  # windows whose encoder pass was saved
        # With detection: a clip whose detector gives the decode's language less than this
        # is decoded at beam 1, as evidence only (a beam costs a third of a window's time on
        # a CPU, and a decode in the wrong language is thrown away); `greedy` says which.
        self.evidence_below = evidence_below
        self.greedy: list[bool] = []  # per clip of the last call, in order

    @staticmethod
    def key(features: np.ndarray) -> bytes:
        return hashlib.blake2b(np.ascontiguousarray(features).tobytes(), digest_size=16).digest()


def encode(model, features: np.ndarray):
    """The encoder's outputs for a batch of windows' features. On a CPU, one window at a
    time: the activations of several 30 s windows overflow the caches
    (docs/decisions.md#one-window-encode). On a GPU, the batch at once."""
    if features.ndim == 2 or len(features) == 1 or model.model.device != "cpu":
        return model.encode(features)
    import ctranslate2

    outputs = [np.array(model.encode(window[None])) for window in features]
    return ctranslate2.StorageView.from_array(np.concatenate(outputs))


class WindowEncoder:
    """The WhisperModel as faster-whisper's batched pipeline sees it, encoding as `encode`
    does."""

    def __init__(self, model):
        self._model = model

    def __getattr__(self, name: str):
        return getattr(self._model, name)

    def encode(self, features: np.ndarray):
        return encode(self._model, features)


class ReusingModel(WindowEncoder):
    """The WhisperModel as faster-whisper's batched pipeline sees it, its encoder going
    through an EncoderReuse (and, with `detect`, the detector read from each output, and the
    clips it does not give `language` decoded at beam 1)."""

    def __init__(self, model, reuse: EncoderReuse, detect: bool, language: str):
        super().__init__(model)
        self._reuse, self._detect = reuse, detect
        self._language = language
        self._on_host = model.model.device == "cpu"
        self._batch_greedy: list[bool] = []  # per clip of the batch just encoded
        # Per clip encoded through this object, in order (a call's workers each have one;
        # the call gathers them into the EncoderReuse).
        self.detected: list[dict[str, float]] = []
        self.greedy: list[bool] = []
        self.reused = 0

    @property
    def model(self):  # the CTranslate2 model, as the pipeline calls it to generate
        return BeamPerClip(self._model.model, self._batch_greedy)

    def encode(self, features: np.ndarray):
        import ctranslate2

        batch = features if features.ndim == 3 else features[None]
        keys = [EncoderReuse.key(f) for f in batch]
        kept = self._reuse.outputs
        if self._on_host and all(k in kept for k in keys):
            output = ctranslate2.StorageView.from_array(np.stack([kept[k] for k in keys]))
            self.reused += len(keys)
        else:
            output = super().encode(features)
            if self._on_host:
                kept.update(zip(keys, np.array(output), strict=True))
        self._batch_greedy = []
        if self._detect:
            probs = [
                {token[2:-2]: p for token, p in result}
                for result in self._model.model.detect_language(output)
            ]
            greedy = [p.get(self._language, 0.0) < self._reuse.evidence_below for p in probs]
            if not self._on_host and not all(greedy):
                greedy = [False] * len(greedy)  # a batch is split on the host only
            self.detected += probs
            self.greedy += greedy
            self._batch_greedy = greedy
        return output


class BeamPerClip:
    """The CTranslate2 Whisper model, generating at beam 1 for the clips flagged greedy."""

    def __init__(self, whisper, greedy: list[bool]):
        self._whisper, self._greedy = whisper, greedy

    def __getattr__(self, name: str):
        return getattr(self._whisper, name)

    def generate(self, encoder_output, prompts, **options):
        import ctranslate2

        greedy = self._greedy
        if not any(greedy):
            return self._whisper.generate(encoder_output, prompts, **options)
        if all(greedy):
            return self._whisper.generate(encoder_output, prompts, **{**options, "beam_size": 1})
        outputs = np.array(encoder_output)
        results: list = [None] * len(prompts)
        for flag in (True, False):
            idx = [i for i, g in enumerate(greedy) if g == flag]
            part = ctranslate2.StorageView.from_array(np.ascontiguousarray(outputs[idx]))
            kwargs = {**options, "beam_size": 1} if flag else options
            generated = self._whisper.generate(part, [prompts[i] for i in idx], **kwargs)
            for i, result in zip(idx, generated, strict=True):
                results[i] = result
        return results
