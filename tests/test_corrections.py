"""Corrections keep the machine's text; reviewed transcripts measure accuracy; consented
ones export as an evaluation set the benchmarks read. In-process API (TestClient) on a
real SQLite database, with a real recording from ../shared/eval.

The job is completed with a machine transcript fixed here (what a weak engine might have
written for mixed_kk_ru.wav), so that the expected WER and CER can be worked out by hand."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest

from kazru_stt.db.models import Job
from kazru_stt.db.session import get_engine, session_scope
from kazru_stt.domain.machine_text import machine_record, split_record
from kazru_stt.domain.text_compare import error_counts, normalize
from kazru_stt.domain.transcript import Segment, Transcript, Word
from kazru_stt.domain.word_timing import retime
from kazru_stt.services import run_job
from tests.api_app import ApiApp
from tests.service_harness import PG_ADMIN_URL, need_servers

ROOT = Path(__file__).resolve().parents[1]


def _words(spec: list[tuple[str, float, float]]) -> list[Word]:
    return [Word(a, b, " " + t, 0.8) for t, a, b in spec]


MACHINE = Transcript(
    duration=9.54,
    engine="local",
    model="whisper-base-test",
    segments=[
        Segment(
            0,
            0.0,
            2.5,
            "Алға қарай бес метр",
            "kk",
            words=_words(
                [("Алға", 0.1, 0.5), ("қарай", 0.6, 1.0), ("бес", 1.1, 1.4), ("метр", 1.5, 2.0)]
            ),
        ),
        Segment(1, 2.5, 5.04, "токта сосын солга карай эки метр жур", "ru"),
        Segment(
            2,
            5.54,
            9.54,
            "шестьдесят тысяч тенге сколько будет стоить",
            "ru",
            words=_words(
                [
                    ("шестьдесят", 5.6, 6.3),
                    ("тысяч", 6.4, 6.8),
                    ("тенге", 6.9, 7.3),
                    ("сколько", 7.6, 8.1),
                    ("будет", 8.2, 8.5),
                    ("стоить", 8.6, 9.2),
                ]
            ),
        ),
    ],
)


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request, tmp_path):
    """On both databases: renumbering segments after a split or merge must respect
    PostgreSQL's row-by-row unique check on (job, index)."""
    if request.param == "sqlite":
        yield ApiApp(tmp_path)
        return
    need_servers(postgres=True)
    import psycopg

    name = f"kazru_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    app = ApiApp(tmp_path, database_url=url)
    yield app
    get_engine(url).dispose()  # DROP ... WITH (FORCE) would end them anyway; be polite
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _completed_job(api: ApiApp, client, eval_dir: Path) -> str:
    with (eval_dir / "mixed_kk_ru.wav").open("rb") as fh:
        job = client.post("/api/v1/transcriptions", files={"file": ("call.wav", fh)}).json()
    assert run_job.claim(api.ctx, job["id"], "test-worker") is not None
    assert run_job.store_result(api.ctx, job["id"], "test-worker", MACHINE)
    return job["id"]


def _segments(client, job_id: str) -> list[dict]:
    return client.get(f"/api/v1/transcriptions/{job_id}").json()["result"]["segments"]


def test_corrections_review_accuracy_undo_and_isolation(api, eval_dir):
    owner = api.user("owner@example.com", admin=True)
    other = api.user("other@example.com")
    with api.client(owner) as c:
        job_id = _completed_job(api, c, eval_dir)
        base = f"/api/v1/transcriptions/{job_id}"
        # 1. text: one word added at the end; the four words left alone keep their times.
        r = c.patch(f"{base}/segments/0", json={"text": "Алға қарай бес метр жүр"})
        assert r.status_code == 200, r.text
        words = r.json()["words"]
        assert [(w["start"], w["end"]) for w in words[:4]] == [
            (0.1, 0.5),
            (0.6, 1.0),
            (1.1, 1.4),
            (1.5, 2.0),
        ]
        assert words[4]["text"].strip() == "жүр" and 2.0 <= words[4]["start"] < words[4]["end"]
        # 2. language and text of the second segment in one correction.
        r = c.patch(
            f"{base}/segments/1",
            json={"text": "тоқта сосын солға карай екі метр жүр", "language": "kk"},
        )
        assert r.json()["language"] == "kk" and r.json()["edited"] is True
        # 3. a split before "сколько": two segments, cut between the words' times.
        text = _segments(c, job_id)[2]["text"]
        r = c.post(f"{base}/segments/2/split", json={"at": text.index("сколько")})
        assert r.status_code == 200, r.text
        left, right = r.json()["segments"]
        assert (left["text"], right["text"]) == ("шестьдесят тысяч тенге", "сколько будет стоить")
        assert left["end"] == right["start"] == pytest.approx((7.3 + 7.6) / 2)
        assert len(_segments(c, job_id)) == 4

        # Nothing is measured before the review.
        assert c.get("/api/v1/me/accuracy").json()["overall"]["minutes"] == 0
        review = c.post(f"{base}/review")
        assert review.status_code == 200, review.text
        # By hand. Words: 1 (жүр added) + 4 (токта, солга, эки, жур) + 0, over 5 + 7 + 6.
        # Characters (normalised): 4 (" жүр") + 5 (қ, ғ, е, і, ү) + 0, over 23 + 36 + 22 + 20.
        # Language: 2.5 s + 4.0 s labelled right of 2.5 + 2.54 + 4.0 s.
        acc = c.get("/api/v1/me/accuracy").json()
        overall = acc["overall"]
        assert overall["wer"] == round(5 / 18, 4)
        assert overall["cer"] == round(9 / 101, 4)
        assert overall["language_accuracy"] == round(6.5 / 9.04, 4)
        assert overall["minutes"] == round(9.04 / 60, 2) and overall["transcripts"] == 1
        by_lang = {g["language"]: g for g in acc["groups"]}
        assert by_lang["kk"]["wer"] == round(5 / 12, 4)
        assert by_lang["kk"]["language_accuracy"] == round(2.5 / 5.04, 4)
        assert by_lang["ru"]["wer"] == 0 and by_lang["ru"]["language_accuracy"] == 1
        assert {(g["engine"], g["model"]) for g in acc["groups"]} == {
            ("local", "whisper-base-test")
        }
        assert acc["weeks"][0]["week"].startswith("20") and acc["weeks"][0]["minutes"] > 0

        # Undo the split: the figures follow (one segment of 43 characters, not 22 + 20).
        r = c.post(f"{base}/undo")
        assert r.json()["action"] == "split" and r.json()["can_redo"] is True
        assert len(_segments(c, job_id)) == 3
        assert c.get("/api/v1/me/accuracy").json()["overall"]["cer"] == round(9 / 102, 4)
        assert c.post(f"{base}/redo").json()["action"] == "split"
        assert len(_segments(c, job_id)) == 4
        # Undo everything: the machine's text and word times come back exactly.
        for _ in range(3):
            assert c.post(f"{base}/undo").status_code == 200
        r = c.post(f"{base}/undo")
        assert r.status_code == 409 and r.json()["error"]["code"] == "nothing_to_undo"
        back = _segments(c, job_id)
        assert [s["text"] for s in back] == [s.text for s in MACHINE.segments]
        assert back[1]["language"] == "ru"
        assert [w["start"] for w in back[0]["words"]] == [0.1, 0.6, 1.1, 1.5]
        assert c.get("/api/v1/me/accuracy").json()["overall"]["wer"] == 0
        # History: who and what, newest first; redo all three.
        history = c.get(f"{base}/history").json()
        assert [h["action"] for h in history["items"]] == ["split", "segment", "text"]
        assert history["items"][2]["actor"] == "owner@example.com"
        assert history["items"][2]["before"][0]["text"] == "Алға қарай бес метр"
        assert all(h["undone"] for h in history["items"])
        for _ in range(3):
            assert c.post(f"{base}/redo").status_code == 200
        assert c.get("/api/v1/me/accuracy").json()["overall"]["wer"] == round(5 / 18, 4)

        # Speaker and merge: the merged segment keeps both machine parts and languages.
        assert c.patch(f"{base}/segments/0", json={"speaker": "SPEAKER_1"}).status_code == 200
        merged = c.post(f"{base}/segments/0/merge").json()
        assert merged["text"].startswith("Алға") and merged["text"].endswith("метр жүр")
        assert c.get("/api/v1/me/accuracy").json()["overall"]["wer"] == round(5 / 18, 4)
        last = len(_segments(c, job_id)) - 1
        r = c.post(f"{base}/segments/{last}/merge")
        assert r.status_code == 409 and r.json()["error"]["code"] == "nothing_to_merge"
        r = c.post(f"{base}/segments/0/split", json={"at": 1000})
        assert r.status_code == 422
        r = c.patch(f"{base}/segments/0", json={"language": "xx"})
        assert r.status_code == 422

    with api.client(other) as c:  # another user: none of it, and no text anywhere
        mine = c.get("/api/v1/me/accuracy").json()
        assert mine["overall"]["minutes"] == 0 and mine["groups"] == []
        assert c.get("/api/v1/admin/accuracy").status_code == 404
        assert c.get(f"/api/v1/transcriptions/{job_id}/history").status_code == 404
    with api.client(owner) as c:  # the admin sees everyone's figures, never their text
        everyone = c.get("/api/v1/admin/accuracy")
        assert everyone.json()["overall"]["transcripts"] == 1
        assert "Алға" not in everyone.text and "сколько" not in everyone.text


def test_consented_reviewed_transcripts_export_and_run_through_the_benchmark(
    api, eval_dir, tmp_path
):
    admin = api.user("admin@example.com", admin=True)
    alice = api.user("alice@example.com")
    with api.client(alice) as c:
        job_id = _completed_job(api, c, eval_dir)
        refused = _completed_job(api, c, eval_dir)  # reviewed, but no consent
        base = f"/api/v1/transcriptions/{job_id}"
        c.patch(f"{base}/segments/0", json={"text": "Алға қарай бес метр жүр"}).raise_for_status()
        c.patch(
            f"{base}/segments/1",
            json={"text": "тоқта сосын солға карай екі метр жүр", "language": "kk"},
        ).raise_for_status()
        for jid in (job_id, refused):
            c.post(f"/api/v1/transcriptions/{jid}/review").raise_for_status()
        r = c.put(f"{base}/consent", json={"evaluation": True})
        assert r.json() == {"evaluation_consent": True}
        assert c.get(base).json()["evaluation_consent"] is True
    with api.client(admin) as c:
        r = c.put(f"/api/v1/transcriptions/{refused}/consent", json={"evaluation": True})
        assert r.status_code == 403 and r.json()["error"]["code"] == "not_owner"
        r = c.get("/api/v1/admin/evaluation-set")
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    out = tmp_path / "exported"
    zipfile.ZipFile(io.BytesIO(r.content)).extractall(out)
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [row["lang"] for row in rows] == ["kk", "kk", "ru"]
    assert rows[0]["text"] == "Алға қарай бес метр жүр"
    assert all((out / row["audio"]).is_file() and row["reference"] == "human" for row in rows)
    assert all(refused not in row["source_path"] for row in rows)

    # The project's benchmark runs on the exported set unchanged.
    bench = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "eval_pipeline.py"), "--quick"],
        env={"KAZRU_EVAL_DIR": str(out), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert bench.returncode == 0, bench.stderr[-3000:]
    assert "kk: clips=2" in bench.stdout and "ru: clips=1" in bench.stdout

    # Expired audio is never exported.
    with session_scope(api.ctx.db_url) as db:
        db.get(Job, job_id).audio_deleted_at = db.get(Job, job_id).created_at
    with api.client(admin) as c:
        r = c.get("/api/v1/admin/evaluation-set")
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert names == ["manifest.jsonl"] or names == ["audio/", "manifest.jsonl"]


def test_retime_keeps_unchanged_words_and_fills_new_ones():
    old = _words([("один", 0.0, 0.4), ("два", 0.5, 0.8), ("три", 1.0, 1.3)])
    new = retime(old, "Один, два с половиной, три!", 0.0, 2.0)
    assert [w.text.strip() for w in new] == ["Один,", "два", "с", "половиной,", "три!"]
    assert (new[0].start, new[1].start, new[4].start) == (0.0, 0.5, 1.0)
    assert 0.8 <= new[2].start < new[3].start < new[3].end <= 1.0
    replaced = retime(old, "один пять три", 0.0, 2.0)
    assert (replaced[1].start, replaced[1].end, replaced[1].probability) == (0.5, 0.8, 1.0)
    assert retime([], "a b", 1.0, 3.0)[1].end == pytest.approx(3.0)


def test_machine_record_splits_by_word_time_and_normalisation_keeps_kazakh_letters():
    seg = MACHINE.segments[2]
    left, right = split_record(machine_record(seg, "local", "m"), 7.45)
    assert left["parts"][0]["text"] == "шестьдесят тысяч тенге"
    assert right["parts"][0]["text"] == "сколько будет стоить"
    assert normalize("Ёлка, ҚАЗАҚ-тілі!") == "елка қазақ тілі"
    counts = error_counts("сәлем әлем", "салем элем")
    assert (counts.word_errors, counts.ref_words, counts.char_errors) == (2, 2, 2)
