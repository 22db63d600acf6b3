"""Storage of uploaded originals behind a small interface: a local directory by default,
or an S3-compatible bucket."""

from kazru_stt.storage.base import Storage, StoredFile
from kazru_stt.storage.factory import get_storage

__all__ = ["Storage", "StoredFile", "get_storage"]
