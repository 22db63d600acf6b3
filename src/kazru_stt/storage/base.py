"""The storage interface and its factory. File names are generated ids, never the user's."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from kazru_stt.domain.errors import KazruError


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str


class StorageError(KazruError):
    code = "storage_unavailable"


class FileTooLarge(KazruError):
    code = "file_too_large"


class Storage(Protocol):
    def save(self, source: BinaryIO, *, max_bytes: int | None = None) -> StoredFile:
        """Copy `source` in chunks; raise FileTooLarge past `max_bytes` (nothing kept)."""

    def local_path(self, key: str) -> AbstractContextManager[Path]:
        """A local file with the object's bytes for the duration of the block."""

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def check(self) -> None:
        """Raise StorageError when the storage cannot be written."""


def get_storage(url: str) -> Storage:
    if url.startswith("s3://"):
        raise StorageError(
            "S3 storage is not available in this version; use a directory for KAZRU_STORAGE_URL"
        )
    from kazru_stt.storage.local import LocalStorage

    return LocalStorage(Path(url.removeprefix("file://")))
