"""Local directory storage: uploads/<2 hex>/<32 hex>, written atomically."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.storage.base import Reader, StorageError, StoredFile, counted_chunks, new_key


def _refused_write(exc: OSError, message: str) -> StorageError:
    """A write the file system refused: `storage_full` when it is out of space (or quota),
    else `storage_unavailable`."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageError("the storage is full; try again later", code=ErrorCode.STORAGE_FULL)
    return StorageError(message)


class LocalStorage:
    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise StorageError(f"invalid storage key {key!r}")
        return path

    def save(
        self, source: Reader, *, max_bytes: int | None = None, key: str | None = None
    ) -> StoredFile:
        key = key or new_key()
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        except OSError as exc:
            raise StorageError("the storage cannot be written; try again later") from exc
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in counted_chunks(source, digest, max_bytes):
                    size += len(chunk)
                    out.write(chunk)
            os.replace(tmp, path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise _refused_write(exc, "the storage cannot be written; try again later") from exc
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return StoredFile(key=key, size=size, sha256=digest.hexdigest())

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise StorageError(f"stored file {key} is missing", code=ErrorCode.FILE_MISSING)
        yield path

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        with self.local_path(key) as path, path.open("rb") as fh:
            yield fh

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".probe-{uuid.uuid4().hex}"
            try:
                probe.write_bytes(b"ok")
            finally:  # also when the write failed (a full disk): made, not written
                probe.unlink(missing_ok=True)
        except OSError as exc:
            raise _refused_write(exc, f"storage {self.root} is not writable: {exc}") from exc
