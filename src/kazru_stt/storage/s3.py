"""S3-compatible storage (AWS, SeaweedFS, MinIO, Ceph) through boto3.

Uploads go up in parts of PART_BYTES as they are read (multipart upload; one PUT when the
file is smaller than a part), so no more than two parts are held in memory. The API reads a
recording's header by range requests (`open`); a worker reads the object through a local
cache file that is deleted when its block ends (`local_path`)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.storage.base import (
    CHUNK_BYTES,
    Reader,
    StorageError,
    StoredFile,
    counted_chunks,
    new_key,
)

PART_BYTES = 8 * 1024 * 1024  # S3's minimum part is 5 MB (all parts but the last)
READ_AHEAD_BYTES = 1024 * 1024  # one ranged GET per MB read when headers are probed


class S3Storage:
    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        cache_dir: Path,
    ):
        import boto3
        from botocore.config import Config

        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.cache_dir = cache_dir
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                retries={"max_attempts": 5, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
                s3={"addressing_style": "path"},  # works with every S3-compatible server
            ),
        )

    def _object(self, key: str) -> str:
        if ".." in key.split("/") or key.startswith("/"):
            raise StorageError(f"invalid storage key {key!r}")
        return f"{self.prefix}/{key}" if self.prefix else key

    def _errors(self):
        from botocore.exceptions import BotoCoreError, ClientError

        return (BotoCoreError, ClientError)

    def save(
        self, source: Reader, *, max_bytes: int | None = None, key: str | None = None
    ) -> StoredFile:
        key = key or new_key()
        obj = self._object(key)
        digest, size = hashlib.sha256(), 0
        upload_id: str | None = None
        parts: list[dict] = []

        chunks = counted_chunks(source, digest, max_bytes)

        def read_part() -> bytes:
            nonlocal size
            buf = bytearray()
            while len(buf) < PART_BYTES and (chunk := next(chunks, None)) is not None:
                buf += chunk
            size += len(buf)
            return bytes(buf)

        try:
            part = read_part()
            nxt = read_part() if len(part) >= PART_BYTES else b""
            if not nxt:  # small file: one PUT
                self.client.put_object(Bucket=self.bucket, Key=obj, Body=part)
            else:
                upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=obj)[
                    "UploadId"
                ]
                number = 1
                while part:
                    answer = self.client.upload_part(
                        Bucket=self.bucket,
                        Key=obj,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=part,
                    )
                    parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                    number += 1
                    part, nxt = nxt, (read_part() if nxt else b"")
                self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=obj,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except self._errors() as exc:
            self._abort(obj, upload_id)
            raise StorageError("the storage cannot be written; try again later") from exc
        except BaseException:
            self._abort(obj, upload_id)
            raise
        return StoredFile(key=key, size=size, sha256=digest.hexdigest())

    def _abort(self, obj: str, upload_id: str | None) -> None:
        if upload_id is None:
            return
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=obj, UploadId=upload_id)
        except self._errors():
            pass  # the bucket's lifecycle rule for incomplete uploads is the backstop

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        from botocore.exceptions import ClientError

        mine = self.cache_dir / str(os.getpid())  # a killed process's copies: prune_cache
        mine.mkdir(parents=True, exist_ok=True)
        local = mine / f"{uuid.uuid4().hex}{Path(key).suffix}"
        try:
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=self._object(key))
                with local.open("wb") as out:
                    shutil.copyfileobj(answer["Body"], out, CHUNK_BYTES)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    raise StorageError(
                        f"stored file {key} is missing", code=ErrorCode.FILE_MISSING
                    ) from exc
                raise StorageError("the storage cannot be read; try again later") from exc
            except self._errors() as exc:
                raise StorageError("the storage cannot be read; try again later") from exc
            yield local
        finally:
            local.unlink(missing_ok=True)

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        from botocore.exceptions import ClientError

        obj = self._object(key)
        try:
            size = self.client.head_object(Bucket=self.bucket, Key=obj)["ContentLength"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise StorageError(
                    f"stored file {key} is missing", code=ErrorCode.FILE_MISSING
                ) from exc
            raise StorageError("the storage cannot be read; try again later") from exc
        except self._errors() as exc:
            raise StorageError("the storage cannot be read; try again later") from exc
        raw = _RangedReader(self.client, self.bucket, obj, size, self._errors())
        reader = io.BufferedReader(raw, buffer_size=READ_AHEAD_BYTES)
        try:
            yield reader
        finally:
            reader.close()

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._object(key))
        except self._errors() as exc:
            raise StorageError("the storage cannot be written; try again later") from exc

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._object(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StorageError("the storage cannot be read; try again later") from exc

    def check(self) -> None:
        probe = self._object(f".probe-{uuid.uuid4().hex}")
        try:
            self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"ok")
            self.client.delete_object(Bucket=self.bucket, Key=probe)
        except self._errors() as exc:
            raise StorageError(
                f"bucket {self.bucket} is not writable: {type(exc).__name__}"
            ) from exc


class _RangedReader(io.RawIOBase):
    """Reads an object by HTTP range requests: seekable, nothing stored (headers are probed
    where the object lies, instead of downloading it)."""

    def __init__(self, client, bucket: str, obj: str, size: int, errors: tuple):
        self.client, self.bucket, self.obj, self.size = client, bucket, obj, size
        self.errors = errors
        self.pos = 0
        self.name = obj.rsplit("/", 1)[-1]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer) -> int:
        if self.pos >= self.size or not len(buffer):
            return 0
        end = min(self.size, self.pos + len(buffer)) - 1
        try:
            answer = self.client.get_object(
                Bucket=self.bucket, Key=self.obj, Range=f"bytes={self.pos}-{end}"
            )
            data = answer["Body"].read()
        except self.errors as exc:
            raise StorageError("the storage cannot be read; try again later") from exc
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)


def prune_cache(cache_dir: Path) -> int:
    """Remove the copies left by processes that died mid-job (their pid is gone); returns
    how many directories were removed. Run at a worker's start."""
    removed = 0
    if not cache_dir.is_dir():
        return 0
    for entry in cache_dir.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            os.kill(int(entry.name), 0)
            continue  # alive (another worker on this machine)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
        except PermissionError:
            continue  # alive, someone else's
    return removed
