"""Which storage the settings name: local files, or an S3 bucket (boto3 is imported only for
the second)."""

from __future__ import annotations

from pathlib import Path

from kazru_stt.config import Settings
from kazru_stt.storage.base import Storage
from kazru_stt.storage.local import LocalStorage


def get_storage(settings: Settings) -> Storage:
    url = settings.resolved_storage_url
    if url.startswith("s3://"):
        from kazru_stt.storage.s3 import S3Storage  # noqa: PLC0415  (boto3: a second to import)

        return S3Storage(
            url,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            cache_dir=settings.resolved_s3_cache_dir,
        )
    return LocalStorage(Path(url.removeprefix("file://")))
