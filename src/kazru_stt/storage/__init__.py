"""Storage of uploaded originals: a local directory by default, behind a small interface."""

from kazru_stt.storage.base import Storage, StoredFile, get_storage

__all__ = ["Storage", "StoredFile", "get_storage"]
