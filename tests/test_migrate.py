"""`kazru migrate --to`: an embedded install (SQLite, local files) moved into PostgreSQL and
S3 (SeaweedFS); `kazru serve` on the new settings serves the same accounts, keys, jobs (in
every state: a queued one runs after the move), corrections, voices, search and recordings."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.service_harness import Backend, Service, need_servers

PASSWORD = "correct horse battery"


def _migrate(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kazru_stt.cli.main", "migrate", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _rows(report: str) -> dict[str, tuple[int, int, int]]:
    """The report's table: name → (source, target, copied)."""
    rows = {}
    for line in report.splitlines()[1:]:
        parts = line.split()
        if len(parts) == 4 and all(p.isdigit() for p in parts[1:]):
            rows[parts[0]] = tuple(int(p) for p in parts[1:])
    return rows


def _files(report: str) -> tuple[int, int, int]:
    """The report's recordings: (named, already there, copied)."""
    found = re.search(r"(\d+) named, (\d+) already there and checked, (\d+) copied", report)
    assert found, report
    return tuple(int(n) for n in found.groups())


def test_an_embedded_install_moves_to_postgresql_and_s3(model_cache, eval_dir, tmp_path):
    need_servers(postgres=True)
    from tests.s3_server import start_s3

    clip = eval_dir / "ru" / "vosk_commands.wav"
    old = Service(tmp_path / "old", model_cache, Backend.embedded())
    old.start(embedded_workers=1)
    try:
        key = old.add_user("clerk@court.kz", password=PASSWORD)
        with old.client(key) as c:  # voice memory on, so that naming a speaker keeps a voice
            assert c.put("/api/v1/voices/memory", json={"enabled": True}).status_code == 200
        job = old.upload(clip, key=key, language="ru", diarize="true", num_speakers="1")
        job = old.wait(job["id"])
        assert job["status"] == "completed"
        with old.client(key) as c:
            label = job["result"]["speakers"][0]["label"]
            r = c.patch(
                f"/api/v1/transcriptions/{job['id']}/speakers/{label}", json={"name": "Судья"}
            )
            assert r.status_code == 200, r.text
            assert [v["name"] for v in c.get("/api/v1/voices").json()["data"]] == ["Судья"]
            r = c.patch(
                f"/api/v1/transcriptions/{job['id']}/segments/0", json={"text": "Правка суда"}
            )
            assert r.status_code == 200, r.text
            assert c.post(f"/api/v1/transcriptions/{job['id']}/review").status_code == 200
            exported = {
                fmt: c.get(
                    f"/api/v1/transcriptions/{job['id']}/export", params={"format": fmt}
                ).content
                for fmt in ("txt", "srt", "json")
            }
            # A job in another state: canceled (queued or running when asked; a recording of
            # its own and long enough, or it would be reused, or done, before the cancel).
            other = old.upload(eval_dir / "mixed_kk_ru.wav", key=key)["id"]
            assert c.post(f"/api/v1/transcriptions/{other}/cancel").status_code == 200
        assert old.wait(other)["status"] == "canceled"
        # A failed job: the half of an MP3 passes the upload's probe and fails in the worker.
        data = (eval_dir / "ru" / "tinkoff_sample_1.mp3").read_bytes()
        cut = tmp_path / "cut.mp3"
        cut.write_bytes(data[: len(data) // 2])
        failed = old.wait(old.upload(cut, key=key)["id"])
        assert failed["status"] == "failed", failed
    finally:
        old.stop()
    # A queued job: uploaded while no worker runs; the new install's sweep sends it again.
    old.start(embedded_workers=0, make_admin=False)
    try:
        queued = old.upload(eval_dir / "ru" / "tinkoff_sample_4.wav", key=key)["id"]
    finally:
        old.stop()

    s3 = start_s3(tmp_path / "seaweed")
    target = Backend.scaled()
    try:
        s3_env = s3.env("moved")
        storage = s3_env.pop("KAZRU_STORAGE_URL")
        env = {**old.env, **s3_env}
        to = target.env["KAZRU_DATABASE_URL"]

        dry = _migrate(env, "--to", to, "--storage", storage, "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert "dry run: nothing was written" in dry.stdout
        counts = _rows(dry.stdout)
        assert counts["users"][0] == 2 and counts["users"][1] == 0  # the admin and the clerk
        assert counts["segments"][0] > 0
        client = s3.client()
        assert client.list_objects_v2(Bucket=s3.bucket).get("KeyCount", 0) == 0

        moved = _migrate(env, "--to", to, "--storage", storage)
        assert moved.returncode == 0, moved.stdout + moved.stderr
        assert "complete: start the service with" in moved.stdout
        counts = _rows(moved.stdout)
        assert all(source == target_rows for source, target_rows, _ in counts.values()), counts
        named, present, copied = _files(moved.stdout)
        assert named >= 1 and (present, copied) == (0, named)

        # An interruption: a table and the file only partly there. A second run copies what
        # is missing, and only that.
        import psycopg

        with psycopg.connect(to, autocommit=True) as conn:
            conn.execute("DELETE FROM transcript_edits")
        first = client.list_objects_v2(Bucket=s3.bucket)["Contents"][0]
        client.delete_object(Bucket=s3.bucket, Key=first["Key"])
        again = _migrate(env, "--to", to, "--storage", storage)
        assert again.returncode == 0, again.stdout + again.stderr
        counts = _rows(again.stdout)
        assert counts["transcript_edits"][2] == 1 and counts["jobs"][2] == 0
        assert _files(again.stdout) == (named, named - 1, 1)

        new = Service(
            tmp_path / "new",
            model_cache,
            target,
            **{k[6:].lower(): v for k, v in {**s3_env, "KAZRU_STORAGE_URL": storage}.items()},
            heartbeat_stale_s="5",  # the queued job's queue message stayed behind: re-send soon
            sweep_interval_s="2",
        )
        new.start(embedded_workers=1, make_admin=False)
        new.key = old.key
        try:
            with new.client(key) as c:
                moved_job = c.get(f"/api/v1/transcriptions/{job['id']}").json()
                assert moved_job["status"] == "completed"
                assert moved_job["result"]["segments"][0]["text"] == "Правка суда"
                assert moved_job["reviewed_at"] is not None
                assert c.get(f"/api/v1/transcriptions/{other}").json()["status"] == "canceled"
                gone = c.get(f"/api/v1/transcriptions/{failed['id']}").json()
                assert (gone["status"], gone["error"]) == ("failed", failed["error"])
                assert [v["name"] for v in c.get("/api/v1/voices").json()["data"]] == ["Судья"]
                assert moved_job["result"]["speakers"][0]["name"] == "Судья"
                for fmt, before in exported.items():  # none of these has a generation time
                    after = c.get(
                        f"/api/v1/transcriptions/{job['id']}/export", params={"format": fmt}
                    )
                    assert after.content == before, fmt
                history = c.get(f"/api/v1/transcriptions/{job['id']}/history").json()
                assert [h["action"] for h in history["items"]] == ["text"]
                audio = c.get(f"/api/v1/transcriptions/{job['id']}/audio")
                assert audio.status_code == 200 and audio.content == clip.read_bytes()
                hits = c.get("/api/v1/search", params={"q": "правка"}).json()["hits"]
                assert [h["job_id"] for h in hits] == [job["id"]]
                # New rows get new ids (the sequences were set past the copied ones).
                fresh = new.wait(new.upload(clip, key=key, language="ru")["id"])
                assert fresh["status"] == "completed"
                assert new.wait(queued)["status"] == "completed"
            with new.client(None) as c:
                r = c.post(
                    "/api/v1/auth/login", json={"email": "clerk@court.kz", "password": PASSWORD}
                )
                assert r.status_code == 200, r.text
            with new.client() as c:  # the old admin's key
                assert c.get("/api/v1/admin/workers").status_code == 200
        finally:
            new.stop()
    finally:
        target.close()
        s3.stop()


def test_the_target_must_be_postgresql(tmp_path):
    from kazru_stt.config import Settings
    from kazru_stt.domain.errors import InvalidOptionError
    from kazru_stt.services.install_move import move_install

    settings = Settings(data_dir=tmp_path)
    with pytest.raises(InvalidOptionError, match="PostgreSQL"):
        move_install(settings, f"sqlite:///{tmp_path / 'other.db'}", dry_run=True)
