"""One request → options path for the API and the CLI: the install's defaults filled in,
speakers implied by a count, unknown engines refused, the model checked by the caller's rule."""

from __future__ import annotations

import pytest

from kazru_stt.config import Settings
from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import KazruError
from kazru_stt.services.job_request import JobRequest


def test_an_empty_request_takes_the_installs_defaults(tmp_path):
    settings = Settings(data_dir=tmp_path, languages="kk,ru", engine="local")
    options = JobRequest().options(settings)
    assert options.language == "auto"
    assert options.languages == ("kk", "ru")
    assert options.engine == EngineName.LOCAL
    assert options.model is None and not options.diarize


def test_fields_as_a_form_or_flags_give_them(tmp_path):
    settings = Settings(data_dir=tmp_path)
    options = JobRequest(
        language="kk", languages=" kk , ru,en,", num_speakers=2, min_speakers=1, max_speakers=3
    ).options(settings)
    assert options.language == "kk"
    assert options.languages == ("kk", "ru", "en")  # spaces and empty entries dropped
    assert options.diarize and options.num_speakers == 2  # a count implies speakers
    assert (options.min_speakers, options.max_speakers) == (1, 3)


def test_an_unknown_engine_is_refused_before_any_upload_is_kept(tmp_path):
    with pytest.raises(KazruError) as refused:
        JobRequest(engine="whisper.cpp").options(Settings(data_dir=tmp_path))
    assert refused.value.code == ErrorCode.INVALID_OPTION


def test_the_model_goes_through_the_callers_rule(tmp_path):
    seen = []

    def model_of(name, engine):
        seen.append((name, engine))
        return None if name == "whisper-1" else name

    settings = Settings(data_dir=tmp_path)
    assert JobRequest(model="whisper-1").options(settings, model_of).model is None
    assert JobRequest(model="kk-turbo").options(settings, model_of).model == "kk-turbo"
    assert seen == [("whisper-1", "local"), ("kk-turbo", "local")]
    # The CLI's rule: a name or directory as given.
    assert JobRequest(model="/models/kk").options(settings).model == "/models/kk"
