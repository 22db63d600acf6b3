"""What we rely on inside faster-whisper, beyond its documented API, each checked against the
installed release (pyproject pins it below its next major; a release that changes one of
these fails here, not in a transcript)."""

from __future__ import annotations

import inspect

import ctranslate2
import faster_whisper
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.feature_extractor import FeatureExtractor
from faster_whisper.tokenizer import _LANGUAGE_CODES

from kazru_stt.engines.whisper import decoding


def test_the_language_list_is_where_options_read_it():
    # pipeline/options.supported_languages
    assert {"kk", "ru", "en", "tr"} <= set(_LANGUAGE_CODES)


def test_the_batched_pipeline_calls_its_model_as_encoder_reuse_intercepts_it():
    # encoder_reuse.WindowEncoder/ReusingModel stand in for the WhisperModel the pipeline
    # holds: it must encode through `model.encode`, and detect and generate through
    # `model.model` (the CTranslate2 model, which BeamPerClip wraps).
    assert list(inspect.signature(BatchedInferencePipeline).parameters) == ["model"]
    batched = inspect.getsource(BatchedInferencePipeline.generate_segment_batched)
    assert "self.model.encode(features)" in batched
    assert "self.model.model.detect_language(encoder_output)" in batched
    assert "self.model.model.generate(" in batched
    assert "encoder_output," in batched.split("self.model.model.generate(")[1][:80]


def test_the_batched_pipeline_takes_the_options_we_give_it():
    given = {
        "language",
        "beam_size",
        "temperature",
        "max_new_tokens",
        "word_timestamps",
        "vad_filter",
        "clip_timestamps",
        "without_timestamps",
        "batch_size",
        "hotwords",  # a job's terms (WhisperEngine.hinted)
        *decoding._GATES,
    }
    assert given <= set(inspect.signature(BatchedInferencePipeline.transcribe).parameters)
    sequential = set(inspect.signature(WhisperModel.transcribe).parameters)
    assert given - {"batch_size", "clip_timestamps"} <= sequential
    assert "condition_on_previous_text" in sequential and "task" in sequential


def test_a_hint_costs_its_tokens_and_four_more_before_the_window():
    # WhisperEngine._max_new_tokens leaves room for the prompt get_prompt builds:
    # sot_prev, the hint's tokens, then the start sequence (sot, language, task).
    source = inspect.getsource(WhisperModel.get_prompt)
    assert "prompt.append(tokenizer.sot_prev)" in source
    assert "hotwords and not prefix" in source
    assert "prompt.extend(tokenizer.sot_sequence)" in source


def test_the_model_pieces_the_detector_reads():
    # WhisperEngine.detect_languages: the feature extractor's window, pad_or_trim, and the
    # CTranslate2 model's detector on an encoder output.
    assert {"n_samples", "nb_max_frames"} <= set(vars(FeatureExtractor(feature_size=80)))
    assert list(inspect.signature(pad_or_trim).parameters)[:2] == ["array", "length"]
    assert "self.feature_extractor = FeatureExtractor(" in inspect.getsource(WhisperModel)
    for method in ("encode", "detect_language", "generate"):
        assert callable(getattr(ctranslate2.models.Whisper, method))
    assert callable(ctranslate2.StorageView.from_array)


def test_the_pinned_major():
    major = int(faster_whisper.__version__.split(".")[0])
    assert major == 1, "encoder_reuse was written against faster-whisper 1.x"
