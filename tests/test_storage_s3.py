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
