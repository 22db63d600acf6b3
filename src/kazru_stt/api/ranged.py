"""A stored object sent as HTTP range responses (RFC 9110 §14): what a browser's player asks
for to seek. Read through the storage's seekable reader (`Storage.open`: a file, or S3 range
requests), so no storage copies a whole recording to send a piece of it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi.responses import Response, StreamingResponse

from kazru_stt.storage.base import CHUNK_BYTES, Storage

_ONE_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")  # several ranges: not matched


class Unsatisfiable(ValueError):
    """A range that lies outside the object (416)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one range `header` asks of `size` bytes as (first, last), inclusive; None for the
    whole object (no header, or one we do not serve, such as several ranges: a 200 answers
    those). Unsatisfiable when it lies outside."""
    match = _ONE_RANGE.fullmatch(header.strip()) if header else None
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first_text, last_text = match.groups()
    if not first_text:  # the last n bytes
        count = int(last_text)
        if count == 0 or size == 0:
            raise Unsatisfiable(header)
        return max(size - count, 0), size - 1
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or last < first:
        raise Unsatisfiable(header)
    return first, last


def _chunks(storage: Storage, key: str, first: int, last: int) -> Iterator[bytes]:
    with storage.open(key) as reader:
        reader.seek(first)
        left = last - first + 1
        while left > 0:
            chunk = reader.read(min(CHUNK_BYTES, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def ranged_response(
    storage: Storage, key: str, range_header: str | None, media_type: str, headers: dict
) -> Response:
    """The object, or the range of it asked for (206), or 416; errors of a storage that
    cannot be read are raised here, before anything is sent."""
    with storage.open(key) as reader:
        size = reader.seek(0, 2)
    headers = {**headers, "Accept-Ranges": "bytes"}
    try:
        asked = byte_range(range_header, size)
    except Unsatisfiable:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    first, last = asked or (0, size - 1)
    headers["Content-Length"] = str(last - first + 1)
    status = 200
    if asked is not None:
        status = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return StreamingResponse(
        _chunks(storage, key, first, last) if size else iter(()),
        status_code=status,
        media_type=media_type,
        headers=headers,
    )
