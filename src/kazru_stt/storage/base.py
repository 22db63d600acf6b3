"""The storage interface. File names are generated ids, never the user's."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import KazruError


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str


class StorageError(KazruError):
    code = ErrorCode.STORAGE_UNAVAILABLE


def storage_down(exc: BaseException) -> bool:
    """The storage unreachable, as opposed to missing a file or full (which waiting for a
    while does not mend)."""
    return isinstance(exc, StorageError) and exc.code == ErrorCode.STORAGE_UNAVAILABLE


class FileTooLarge(KazruError):
    code = ErrorCode.FILE_TOO_LARGE


CHUNK_BYTES = 1024 * 1024


def new_key() -> str:
    """Where a new upload is stored: uploads/<2 hex>/<32 hex>."""
    name = uuid.uuid4().hex
    return f"uploads/{name[:2]}/{name}"


class Reader(Protocol):
    """What an upload is read from: a file, or a form's part as it arrives."""

    def read(self, size: int = -1, /) -> bytes: ...


def counted_chunks(source: Reader, digest, max_bytes: int | None) -> Iterator[bytes]:
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
    def save(
        self, source: Reader, *, max_bytes: int | None = None, key: str | None = None
    ) -> StoredFile:
        """Copy `source` in chunks under a new key (or `key`, when an install moves with its
        keys); raise FileTooLarge past `max_bytes` (nothing kept)."""

    def local_path(self, key: str) -> AbstractContextManager[Path]:
        """A local file with the object's bytes for the duration of the block."""

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        """A seekable reader of the object, without a local copy (to read headers)."""

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def check(self) -> None:
        """Raise StorageError when the storage cannot be written."""
