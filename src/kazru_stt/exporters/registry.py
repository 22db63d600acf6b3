"""The export formats, their content types and file extensions, in one table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import InvalidOptionError
from kazru_stt.domain.transcript import Transcript
from kazru_stt.exporters.docx_export import to_docx
from kazru_stt.exporters.json_export import to_json
from kazru_stt.exporters.subtitles import to_srt, to_vtt
from kazru_stt.exporters.text import to_txt


@dataclass(frozen=True)
class ExportFormat:
    name: str
    render: Callable[..., bytes]
    content_type: str
    extension: str
    binary: bool = False


FORMATS: dict[str, ExportFormat] = {
    "txt": ExportFormat("txt", to_txt, "text/plain; charset=utf-8", "txt"),
    "srt": ExportFormat("srt", to_srt, "application/x-subrip; charset=utf-8", "srt"),
    "vtt": ExportFormat("vtt", to_vtt, "text/vtt; charset=utf-8", "vtt"),
    "json": ExportFormat("json", to_json, "application/json", "json"),
    "docx": ExportFormat(
        "docx",
        to_docx,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        binary=True,
    ),
}


def get_format(name: str) -> ExportFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise InvalidOptionError(
            f"unknown export format {name!r}; choose one of {', '.join(FORMATS)}",
            code=ErrorCode.UNSUPPORTED_FORMAT,
        ) from None


def export(transcript: Transcript, fmt: str, **options: object) -> bytes:
    return get_format(fmt).render(transcript, **options)
