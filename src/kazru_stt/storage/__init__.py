"""Storage of uploaded originals behind a small interface: a local directory by default,
or an S3-compatible bucket."""

from kazru_stt.storage.base import Storage, StorageError, StoredFile, storage_down
from kazru_stt.storage.factory import get_storage

__all__ = ["Storage", "StorageError", "StoredFile", "get_storage", "storage_down"]
