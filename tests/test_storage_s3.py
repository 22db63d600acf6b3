"""S3 storage against a real S3 server (SeaweedFS on 127.0.0.1): multipart uploads in
parts, limits that leave nothing behind, reads through a cache that is emptied, and a
clear error when the bucket is unreachable."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from kazru_stt.config import Settings
from kazru_stt.domain.errors import KazruError
from kazru_stt.storage import get_storage
from kazru_stt.storage.base import FileTooLarge, StorageError
from kazru_stt.storage.s3 import PART_BYTES
from tests.s3_server import start_s3
from tests.service_harness import PG_ADMIN_URL


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = start_s3(tmp_path_factory.mktemp("seaweed"))
    yield server
    server.stop()


def _settings(s3, tmp_path, **extra) -> Settings:
    env = {k[6:].lower(): v for k, v in s3.env("uploads-test").items()}
    return Settings(data_dir=tmp_path, database_url=PG_ADMIN_URL, **{**env, **extra})


class CountingReader(io.RawIOBase):
    """A source that records the largest read asked of it (memory held per read)."""

    def __init__(self, data: bytes):
        self.inner = io.BytesIO(data)
        self.largest = 0

    def readable(self):
        return True

    def read(self, n=-1):
        self.largest = max(self.largest, n if n > 0 else len(self.inner.getvalue()))
        return self.inner.read(n)


def test_multipart_roundtrip_cache_cleaned(s3, tmp_path):
    storage = get_storage(_settings(s3, tmp_path))
    storage.check()
    data = os.urandom(2 * PART_BYTES + 12345)  # three parts
    source = CountingReader(data)
    stored = storage.save(source)
    assert stored.size == len(data) and stored.sha256 == hashlib.sha256(data).hexdigest()
    assert source.largest <= 1024 * 1024  # read in chunks, never the whole file
    assert f"uploads-test/{stored.key}" in s3.keys()
    with storage.local_path(stored.key) as path:
        assert path.read_bytes() == data
        assert path.parent.parent == tmp_path / "cache"
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]  # copy gone
    storage.delete(stored.key)
    assert not storage.exists(stored.key)


def test_credentials_from_aws_standard_chain(s3, tmp_path, monkeypatch):
    """Without KAZRU_S3_* keys, boto3's own chain gives them (here its AWS_* variables; in a
    cluster, a pod's role); half a pair is refused at start."""
    import boto3

    env = {k[6:].lower(): v for k, v in s3.env("uploads-test").items()}
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # boto3 keeps what it resolved first
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", env.pop("s3_access_key_id"))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", env.pop("s3_secret_access_key"))
    settings = Settings(data_dir=tmp_path, database_url=PG_ADMIN_URL, **env)
    storage = get_storage(settings)
    stored = storage.save(io.BytesIO(b"chain"))
    with storage.local_path(stored.key) as path:
        assert path.read_bytes() == b"chain"
    # The server refuses a wrong secret: the chain's keys are what got the object in.
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    refused = get_storage(Settings(data_dir=tmp_path / "b", database_url=PG_ADMIN_URL, **env))
    with pytest.raises(KazruError):
        refused.save(io.BytesIO(b"refused"))
    with pytest.raises(ValueError, match="or neither"):
        Settings(data_dir=tmp_path, database_url=PG_ADMIN_URL, s3_access_key_id="k", **env)


def test_small_upload_and_missing_object(s3, tmp_path):
    storage = get_storage(_settings(s3, tmp_path))
    stored = storage.save(io.BytesIO(b"RIFF tiny"))
    assert storage.exists(stored.key)
    storage.delete(stored.key)
    with pytest.raises(StorageError) as err, storage.local_path(stored.key):
        pass
    assert err.value.code == "file_missing"


def test_too_large_leaves_no_object_and_no_open_upload(s3, tmp_path):
    storage = get_storage(_settings(s3, tmp_path))
    before = set(s3.keys())
    with pytest.raises(FileTooLarge):
        storage.save(io.BytesIO(os.urandom(2 * PART_BYTES)), max_bytes=PART_BYTES + 10)
    assert set(s3.keys()) == before
    assert not s3.client().list_multipart_uploads(Bucket=s3.bucket).get("Uploads")


def test_unreachable_bucket_is_storage_unavailable(s3, tmp_path):
    settings = _settings(s3, tmp_path, s3_endpoint_url="http://127.0.0.1:9")
    storage = get_storage(settings)
    with pytest.raises(KazruError) as err:
        storage.check()
    assert err.value.code == "storage_unavailable"


def test_copies_of_dead_workers_are_pruned(tmp_path):
    import subprocess

    from kazru_stt.storage.s3 import prune_cache

    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / str(dead.pid)).mkdir()
    (tmp_path / str(dead.pid) / "left.wav").write_bytes(b"x")
    (tmp_path / str(os.getppid())).mkdir()  # a live process: kept
    assert prune_cache(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == [str(os.getppid())]


@pytest.fixture
def s3_api(s3, tmp_path):
    """The API in-process on PostgreSQL and the S3 server (no worker: jobs stay queued)."""
    from tests.api_app import ApiApp
    from tests.service_harness import Backend, need_servers

    need_servers(postgres=True)
    backend = Backend.scaled()
    env = {k[6:].lower(): v for k, v in s3.env("api-test").items()}
    api = ApiApp(tmp_path, database_url=backend.env["KAZRU_DATABASE_URL"], **env)
    try:
        yield api
    finally:
        backend.close()


def test_uploads_stream_into_the_bucket_without_a_local_copy(
    s3_api, s3, eval_dir, tmp_path, monkeypatch
):
    import tempfile

    import numpy as np

    from kazru_stt.media import load_audio
    from kazru_stt.media.encode import write_wav

    # 20 MB of real speech: more than two S3 parts.
    speech = load_audio(eval_dir / "ru" / "vosk_commands.wav")
    audio = np.tile(speech, 28)
    path = write_wav(tmp_path / "long.wav", audio)
    data = path.read_bytes()
    assert len(data) > 2 * PART_BYTES

    copies = []
    for name in ("SpooledTemporaryFile", "NamedTemporaryFile", "TemporaryFile", "mkstemp"):
        real = getattr(tempfile, name)
        monkeypatch.setattr(
            tempfile, name, lambda *a, _real=real, _n=name, **k: copies.append(_n) or _real(*a, **k)
        )
    key = s3_api.user("owner@example.kz")
    before = set(s3.keys())
    with s3_api.client(key) as c:
        r = c.post(
            "/api/v1/transcriptions",
            files={"file": ("long.wav", data, "audio/wav")},
            data={"language": "ru"},
        )
        assert r.status_code == 202, r.text
        job = r.json()
        assert job["duration"] == pytest.approx(audio.size / 16000, abs=0.05)

        # A file that is not media, and a valid file with an invalid option after it: both
        # refused, and nothing of them stays in the bucket.
        bad = c.post(
            "/api/v1/transcriptions", files={"file": ("x.wav", os.urandom(3 * 1024 * 1024))}
        )
        assert bad.status_code == 415 and bad.json()["error"]["code"] == "unsupported_media"
        body, ctype = _multipart([("file", "a.wav", data[:400_000]), ("language", None, b"xx")])
        late = c.post("/api/v1/transcriptions", content=body, headers={"content-type": ctype})
        assert late.status_code == 422, late.text

    assert copies == []  # nothing spooled to a temporary file
    new = set(s3.keys()) - before
    assert len(new) == 1
    stored = s3.client().get_object(Bucket=s3.bucket, Key=new.pop())["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(data).hexdigest()
    cache = s3_api.settings.resolved_s3_cache_dir
    assert not cache.exists() or not [p for p in cache.rglob("*") if p.is_file()]


def _multipart(parts: list[tuple[str, str | None, bytes]]) -> tuple[bytes, str]:
    """A multipart body with the parts in this order (clients differ in where the file goes)."""
    boundary = "kazru-test-boundary"
    out = bytearray()
    for name, filename, value in parts:
        out += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"Content-Disposition: {disposition}\r\n\r\n".encode()
        out += value + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("where", ["local", "s3"])
def test_player_seeks_in_a_recording_wherever_it_is_stored(s3, tmp_path, where, request):
    """The editor's player asks for ranges of the recording: each storage answers 206 with
    those bytes (S3 by range requests, nothing copied whole), the whole file without a
    Range, 416 past its end; a range of a file nobody can see is the same 404."""
    from tests.api_app import ApiApp
    from tests.conftest import tone_wav
    from tests.service_harness import Backend

    # S3 storage is for a cluster, so it comes with PostgreSQL and Redis (nothing consumes).
    backend = Backend.scaled() if where == "s3" else Backend.embedded()
    request.addfinalizer(backend.close)
    env = {**backend.env, **(s3.env("audio-test") if where == "s3" else {})}
    api = ApiApp(tmp_path, **{k[6:].lower(): v for k, v in env.items()})
    owner, stranger = api.user("owner@example.com"), api.user("stranger@example.com")
    data = tone_wav(3.0)
    with api.client(owner) as c:
        job = c.post(
            "/api/v1/transcriptions", files={"file": ("tone.wav", data, "audio/wav")}
        ).json()
        url = f"/api/v1/transcriptions/{job['id']}/audio"
        whole = c.get(url)
        assert whole.status_code == 200, whole.text
        assert whole.content == data and whole.headers["accept-ranges"] == "bytes"
        assert whole.headers["content-type"] == "audio/wav"
        for asked, first, last in [
            ("bytes=0-1", 0, 1),
            ("bytes=1000-", 1000, len(data) - 1),
            ("bytes=-500", len(data) - 500, len(data) - 1),
            ("bytes=40000-9999999", 40000, len(data) - 1),
        ]:
            part = c.get(url, headers={"Range": asked})
            assert part.status_code == 206, (asked, part.text)
            assert part.content == data[first : last + 1], asked
            assert part.headers["content-range"] == f"bytes {first}-{last}/{len(data)}"
        beyond = c.get(url, headers={"Range": f"bytes={len(data)}-"})
        assert beyond.status_code == 416
        assert beyond.headers["content-range"] == f"bytes */{len(data)}"
        several = c.get(url, headers={"Range": "bytes=0-1,5-6"})  # not served: the whole
        assert several.status_code == 200 and several.content == data
    if where == "s3":
        assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    with api.client(stranger) as c:
        assert c.get(url, headers={"Range": "bytes=0-1"}).status_code == 404
