"""The storage interface and its factory. File names are generated ids, never the user's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from kazru_stt.domain.errors import KazruError

if TYPE_CHECKING:
    from kazru_stt.config import Settings


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str


class StorageError(KazruError):
    code = "storage_unavailable"


class FileTooLarge(KazruError):
    code = "file_too_large"


CHUNK_BYTES = 1024 * 1024


def counted_chunks(source: BinaryIO, digest, max_bytes: int | None) -> Iterator[bytes]:
    """`source` in chunks of at most CHUNK_BYTES, hashed into `digest`; FileTooLarge as
    soon as more than `max_bytes` came (the one place an upload's size is enforced)."""
    size = 0
    while chunk := source.read(CHUNK_BYTES):
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise FileTooLarge(
                f"the file is larger than the limit of {max_bytes // (1024 * 1024)} MB",
                details={"max_bytes": max_bytes},
            )
        digest.update(chunk)
        yield chunk


class Storage(Protocol):
    def save(self, source: BinaryIO, *, max_bytes: int | None = None) -> StoredFile:
        """Copy `source` in chunks; raise FileTooLarge past `max_bytes` (nothing kept)."""

    def local_path(self, key: str) -> AbstractContextManager[Path]:
        """A local file with the object's bytes for the duration of the block."""

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        """A seekable reader of the object, without a local copy (to read headers)."""

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def check(self) -> None:
        """Raise StorageError when the storage cannot be written."""


def get_storage(settings: Settings) -> Storage:
    url = settings.resolved_storage_url
    if url.startswith("s3://"):
        from kazru_stt.storage.s3 import S3Storage

        return S3Storage(
            url,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            cache_dir=settings.resolved_s3_cache_dir,
        )
    from kazru_stt.storage.local import LocalStorage

    return LocalStorage(Path(url.removeprefix("file://")))
