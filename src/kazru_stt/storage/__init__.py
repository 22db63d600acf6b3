"""Storage of uploaded originals behind a small interface: a local directory by default,
or an S3-compatible bucket."""

from kazru_stt.storage.base import Storage, StoredFile, get_storage

__all__ = ["Storage", "StoredFile", "get_storage"]
