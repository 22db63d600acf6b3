"""One engine interface: a third engine added in this test alone (it registers itself) is
listed, accepted by the API, run by the worker's code, and its failures may fall back to
the local engine the way Yandex's do."""

from __future__ import annotations

import pytest

from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.errors import KazruError
from kazru_stt.domain.transcript import Segment, Transcript, Word
from kazru_stt.media import probe
from kazru_stt.services import engines as registry
from kazru_stt.services import run_job
from kazru_stt.services.engines import make_transcriber
from tests.api_app import ApiApp


class OutageError(KazruError):
    code = "engine_unavailable"


class MeasuringEngine:
    """Writes one segment that spans the file and says how long it is (from the header)."""

    name = "measure"
    model_name = "measure-1"

    def __init__(self, fail: bool = False):
        self.fail = fail

    def transcribe_file(self, path, options, progress=None):
        if self.fail:
            raise OutageError("the measuring service is down")
        seconds = probe(path).duration
        if progress:
            progress(seconds)
        text = f"{seconds:.1f}"
        return Transcript(
            duration=seconds,
            segments=[Segment(0, 0.0, seconds, text, "ru", words=[Word(0.0, seconds, text)])],
            engine=self.name,
            model=self.model_name,
        )


@pytest.fixture
def engines():
    added = []

    def add(name: str, fail: bool = False, fallback: bool = False):
        registry.register(
            registry.EngineSpec(
                name=name,
                label=f"{name} (test)",
                capabilities=frozenset({registry.WORD_TIMES}),
                build=lambda _settings, _options: MeasuringEngine(fail),
                fallback_to=EngineName.LOCAL if fallback else None,
                fallback_on=(OutageError,),
                fallback_allowed=lambda _settings: fallback,
            )
        )
        added.append(name)

    yield add
    for name in added:
        registry.unregister(name)


def _run(api: ApiApp, key: str, clip, engine: str) -> dict:
    with api.client(key) as c, clip.open("rb") as fh:
        r = c.post(
            "/api/v1/transcriptions", files={"file": (clip.name, fh)}, data={"engine": engine}
        )
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
    run_job.run_job(api.ctx, job_id, "test-worker", make_transcriber(api.settings))
    with api.client(key) as c:
        return c.get(f"/api/v1/transcriptions/{job_id}").json()


def test_a_third_engine_registers_itself_and_runs(tmp_path, engines, eval_dir, model_cache):
    engines("measure")
    engines("flaky", fail=True, fallback=True)
    api = ApiApp(tmp_path, model_cache_dir=model_cache, device="cpu")
    key = api.user("owner@example.kz")
    with api.client(key) as c:
        listed = {e["name"]: e for e in c.get("/api/v1/engines").json()["engines"]}
        assert listed["measure"]["configured"] and listed["measure"]["capabilities"] == [
            "word_times"
        ]
        assert not listed["yandex"]["configured"]  # no key in these settings
        bad = c.post(
            "/api/v1/transcriptions",
            files={"file": ("a.wav", b"RIFF")},
            data={"engine": "nope"},
        )
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_option"

    clip = eval_dir / "ru" / "tinkoff_sample_4.wav"
    done = _run(api, key, clip, "measure")
    assert done["status"] == "completed", done
    assert done["result"]["engine"] == "measure" and done["result"]["text"] == "3.5"

    # An outage of the third engine is covered by the local one, and the transcript says so.
    covered = _run(api, key, clip, "flaky")
    assert covered["status"] == "completed", covered
    assert covered["result"]["engine"] == "local"
    assert covered["result"]["warnings"][0]["code"] == "engine_fallback"


def test_compute_type_follows_the_device():
    from kazru_stt.engines.whisper import resolved_compute_type

    assert resolved_compute_type("cpu", "default") == "int8"
    assert resolved_compute_type("cuda", "default") == "float16"
    assert resolved_compute_type("cuda", "int8_float16") == "int8_float16"
    import ctranslate2

    here = "float16" if ctranslate2.get_cuda_device_count() else "int8"
    assert resolved_compute_type("auto", "default") == here
