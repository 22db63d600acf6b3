"""One transcript as a file in a chosen format, as a download (one route) or in a zip
(bulk): the same document either way, in the reader's language and time zone."""

from __future__ import annotations

import unicodedata

from kazru_stt.db.models import Job
from kazru_stt.domain.transcript import Transcript
from kazru_stt.exporters import export
from kazru_stt.exporters.paper import A4, Paper
from kazru_stt.exporters.redaction import Redactions
from kazru_stt.exporters.registry import ExportFormat
from kazru_stt.services.context import ServiceContext


def render(
    ctx: ServiceContext,
    job: Job,
    transcript: Transcript,
    fmt: ExportFormat,
    *,
    lang: str | None,
    zone: str,
    inaudible_markers: bool = True,
    redactions: Redactions | None = None,
    timestamps: bool = False,
    paper: Paper = A4,
) -> bytes:
    return export(
        transcript,
        fmt.name,
        lang=lang,
        inaudible_markers=inaudible_markers,
        redactions=redactions,
        timestamps=timestamps,
        title=job.filename,
        created=job.created_at,
        timezone=zone,
        paper=paper,
    )


def download_name(filename: str, extension: str, version: int | None = None) -> str:
    """The recording's name with the format's extension ("-v1" before it: an earlier
    version)."""
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    # No control characters, quotes or path separators in a header or a zip entry.
    stem = "".join(
        ch for ch in stem if unicodedata.category(ch)[0] != "C" and ch not in '"\\/'
    ).strip()
    suffix = f"-v{version}" if version is not None else ""
    return f"{stem or 'transcript'}{suffix}.{extension}"
