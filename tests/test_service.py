"""The service end to end with real processes: API + worker, embedded (SQLite, SQLite
queue) and scaled out (PostgreSQL, Redis, two workers)."""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import http.server
import io
import json
import threading
import time

import docx
import pytest

from tests.service_harness import Backend, Service, need_servers

BACKENDS = ["embedded", "scaled"]


def _backend(name: str) -> Backend:
    if name == "scaled":
        need_servers(postgres=True, redis=True)
        return Backend.scaled()
    return Backend.embedded()


@pytest.fixture(scope="module", params=BACKENDS)
def service(request, tmp_path_factory, model_cache, engine):
    backend = _backend(request.param)
    svc = Service(
        tmp_path_factory.mktemp(f"svc-{request.param}"),
        model_cache,
        backend,
        webhook_secret="test-secret-for-signatures",
        webhook_allow_private="true",  # the receivers of these tests listen on 127.0.0.1
    )
    # Scaled out: the API alone, and two workers sharing the queue.
    svc.start(embedded_workers=1 if request.param == "embedded" else 0)
    if request.param == "scaled":
        svc.start_worker()
        svc.start_worker()
    yield svc
    svc.stop()
    backend.close()


def test_upload_completes_with_segments_and_exports(service, eval_dir):
    job = service.upload(eval_dir / "mixed_kk_ru.wav")
    assert job["status"] == "queued" and job["filename"] == "mixed_kk_ru.wav"
    done = service.wait(job["id"])
    assert done["status"] == "completed", done
    result = done["result"]
    assert result["segments"] and all(s["language"] for s in result["segments"])
    assert result["languages"] == ["kk", "ru"]
    assert done["progress"] == 100 and done["attempts"] == 1
    expected = {
        "txt": "text/plain",
        "srt": "application/x-subrip",
        "vtt": "text/vtt",
        "json": "application/json",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
    with service.client() as c:
        for fmt, ctype in expected.items():
            r = c.get(f"/api/v1/transcriptions/{job['id']}/export", params={"format": fmt})
            assert r.status_code == 200, r.text
            assert r.headers["content-type"].startswith(ctype)
            assert f'filename="mixed_kk_ru.{fmt}"' in r.headers["content-disposition"]
        document = docx.Document(
            io.BytesIO(
                c.get(
                    f"/api/v1/transcriptions/{job['id']}/export", params={"format": "docx"}
                ).content
            )
        )
        assert any(ch in "\n".join(p.text for p in document.paragraphs) for ch in "әғқңөұүһі")
        assert round(document.sections[0].page_height.mm) == 297  # A4
        letter = c.get(
            f"/api/v1/transcriptions/{job['id']}/export",
            params={"format": "docx"},
            headers={"Accept-Language": "en-US,en;q=0.9"},
        )
        section = docx.Document(io.BytesIO(letter.content)).sections[0]
        assert round(section.page_height.inches) == 11  # the browser's locale prints on Letter
        events = c.get(f"/api/v1/transcriptions/{job['id']}/events").text
        assert '"status": "completed"' in events and events.startswith("event: status")


def test_ten_concurrent_uploads_all_complete(service, eval_dir):
    clips = sorted((eval_dir / "ru").glob("*.wav")) + sorted((eval_dir / "ru_lid").glob("*.mp3"))
    clips = clips[:10]
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        jobs = list(pool.map(service.upload, clips))
    assert len({j["id"] for j in jobs}) == 10
    finished = [service.wait(j["id"], timeout=600) for j in jobs]
    assert [f["status"] for f in finished] == ["completed"] * 10
    assert all(f["result"]["segments"] for f in finished)
    with service.client() as c:
        page = c.get("/api/v1/transcriptions", params={"status": "completed", "limit": 100}).json()
    assert {j["id"] for j in jobs} <= {item["id"] for item in page["items"]}


def test_bad_uploads_get_clear_errors_and_do_not_hurt_others(service, eval_dir, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not audio " * 100)
    zero = tmp_path / "empty.wav"
    zero.write_bytes(b"")
    with service.client() as c:
        for path, status, code in [(text, 415, "unsupported_media"), (zero, 422, "empty_audio")]:
            r = c.post("/api/v1/transcriptions", files={"file": (path.name, path.read_bytes())})
            assert r.status_code == status, r.text
            err = r.json()["error"]
            assert err["code"] == code and path.name in err["message"]
        r = c.post(
            "/api/v1/transcriptions", files={"file": ("a.wav", b"x")}, data={"language": "xx"}
        )
        assert r.status_code == 422
        assert c.get("/api/v1/transcriptions/0123").json()["error"]["code"] == "not_found"
        assert c.get("/api/v1/transcriptions/0123").status_code == 404
    # A file that passes the probe but fails in the worker fails only its own job.
    data = (eval_dir / "ru" / "tinkoff_sample_1.mp3").read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) // 2])
    bad = service.upload(cut)
    good = service.upload(eval_dir / "ru" / "tinkoff_sample_4.wav")
    bad_done, good_done = service.wait(bad["id"]), service.wait(good["id"])
    assert bad_done["status"] == "failed" and bad_done["error"]["code"] == "corrupt_media"
    assert good_done["status"] == "completed"


def test_edit_cancel_delete(service, eval_dir):
    job = service.wait(service.upload(eval_dir / "ru" / "golos_001ce26c.wav")["id"])
    jid = job["id"]
    with service.client() as c:
        # A control character is refused before anything is stored (it would break the
        # DOCX, and a NUL PostgreSQL's text).
        r = c.patch(f"/api/v1/transcriptions/{jid}/segments/0", json={"text": "правка\x07"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
        # A write is durable before its 200: the next read always sees it.
        for i in range(30):
            text = f"правка {i}"
            assert (
                c.patch(f"/api/v1/transcriptions/{jid}/segments/0", json={"text": text}).status_code
                == 200
            )
            assert (
                c.get(f"/api/v1/transcriptions/{jid}").json()["result"]["segments"][0]["text"]
                == text
            )
        docx_export = c.get(f"/api/v1/transcriptions/{jid}/export", params={"format": "docx"})
        assert docx_export.status_code == 200
        assert "правка 29" in "\n".join(
            p.text for p in docx.Document(io.BytesIO(docx_export.content)).paragraphs
        )
        r = c.patch(
            f"/api/v1/transcriptions/{jid}/segments/0", json={"text": "Шестьдесят тысяч тенге"}
        )
        assert r.status_code == 200 and r.json()["edited"] is True
        txt = c.get(f"/api/v1/transcriptions/{jid}/export", params={"format": "txt"}).text
        assert txt.startswith("Шестьдесят тысяч тенге")
        srt = c.get(f"/api/v1/transcriptions/{jid}/export", params={"format": "srt"}).text
        assert "Шестьдесят тысяч тенге" in srt
        assert (
            c.patch(
                f"/api/v1/transcriptions/{jid}/speakers/SPEAKER_9", json={"name": "x"}
            ).status_code
            == 404
        )
        assert (
            c.post(f"/api/v1/transcriptions/{jid}/cancel").json()["error"]["code"]
            == "not_cancelable"
        )
        bad_fmt = c.get(f"/api/v1/transcriptions/{jid}/export", params={"format": "odt"})
        assert (
            bad_fmt.status_code == 422 and bad_fmt.json()["error"]["code"] == "unsupported_format"
        )
        stored = stored_file(service, jid)
        assert stored.is_file()
        assert c.delete(f"/api/v1/transcriptions/{jid}").status_code == 204
        assert c.get(f"/api/v1/transcriptions/{jid}").status_code == 404
    assert not stored.exists()  # the upload itself is gone, not just the rows


def stored_file(service, job_id: str):
    """Where the service keeps a job's upload (read from its own database)."""
    from kazru_stt.db.models import Job
    from kazru_stt.db.session import session_scope

    ctx = service.context()
    with session_scope(ctx.db_url) as db:
        key = db.get(Job, job_id).storage_key
    return service.data_dir / "storage" / key


def test_openai_client_transcribes(service, eval_dir):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=f"{service.url}/v1", api_key=service.key, max_retries=0)
    with (eval_dir / "ru" / "tinkoff_sample_4.wav").open("rb") as fh:
        result = client.audio.transcriptions.create(model="whisper-1", file=fh, language="ru")
    assert "45" in result.text and "минут" in result.text
    with (eval_dir / "ru" / "tinkoff_sample_4.wav").open("rb") as fh:
        verbose = client.audio.transcriptions.create(
            model="whisper-1",
            file=fh,
            response_format="verbose_json",
            timestamp_granularities=["word"],
        )
    assert verbose.language == "ru" and verbose.words and verbose.segments
    with (eval_dir / "ru" / "tinkoff_sample_4.wav").open("rb") as fh:
        srt = client.audio.transcriptions.create(model="whisper-1", file=fh, response_format="srt")
    assert "-->" in srt
    # Without a valid key the SDK fails cleanly, with the service's own error.
    stranger = openai.OpenAI(base_url=f"{service.url}/v1", api_key="kz_nope_x", max_retries=0)
    with (
        (eval_dir / "ru" / "tinkoff_sample_4.wav").open("rb") as fh,
        pytest.raises(openai.AuthenticationError) as info,
    ):
        stranger.audio.transcriptions.create(model="whisper-1", file=fh)
    assert info.value.status_code == 401


def test_webhook_is_signed_and_delivered(service, eval_dir):
    received: list[tuple[dict, bytes]] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        job = service.upload(eval_dir / "ru" / "tinkoff_sample_4.wav", webhook_url=url)
        service.wait(job["id"])
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        server.shutdown()
    assert received, service.read_logs()
    headers, body = received[0]
    with service.client() as c:
        secret = c.get("/api/v1/me").json()["webhook_secret"]
    signed = headers["X-Kazru-Timestamp"].encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert headers["X-Kazru-Signature"] == expected
    assert abs(int(headers["X-Kazru-Timestamp"]) - time.time()) < 120
    with service.client() as c:
        webhook = c.get(f"/api/v1/transcriptions/{job['id']}").json()["webhook"]
    assert webhook["state"] == "delivered" and webhook["attempts"] == 1
    assert json.loads(body)["id"] == job["id"] and json.loads(body)["status"] == "completed"


def test_diarized_job_and_speaker_rename(service, eval_dir, tmp_path):
    import numpy as np

    from kazru_stt.media import load_audio
    from kazru_stt.media.encode import write_wav

    a, b = (
        load_audio(eval_dir / "ru" / "vosk_commands.wav"),
        load_audio(eval_dir / "ru" / "riva_sample.wav"),
    )
    gap = np.zeros(9600, np.float32)
    path = write_wav(
        tmp_path / "two.wav", np.concatenate([a[:80000], gap, b, gap, a[80000:200000]])
    )
    done = service.wait(service.upload(path, diarize="true", language="ru")["id"])
    assert done["status"] == "completed", done
    assert [s["label"] for s in done["result"]["speakers"]] == ["SPEAKER_1", "SPEAKER_2"]
    with service.client() as c:
        r = c.patch(
            f"/api/v1/transcriptions/{done['id']}/speakers/SPEAKER_2", json={"name": "Айгүл"}
        )
        assert r.status_code == 200 and r.json()["name"] == "Айгүл"
        txt = c.get(
            f"/api/v1/transcriptions/{done['id']}/export", params={"format": "txt", "lang": "ru"}
        ).text
    assert "Айгүл: " in txt and "Спикер 1: " in txt  # the one nobody named, as Russian says it
