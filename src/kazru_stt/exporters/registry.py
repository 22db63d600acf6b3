"""The export formats, their content types and file extensions, in one table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import InvalidOptionError
from kazru_stt.domain.transcript import Transcript
from kazru_stt.exporters.docx_export import to_docx
from kazru_stt.exporters.for_reader import for_reader, reader_language
from kazru_stt.exporters.json_export import to_json
from kazru_stt.exporters.pdf_export import to_pdf
from kazru_stt.exporters.redaction import Redactions, redacted
from kazru_stt.exporters.subtitles import to_srt, to_vtt
from kazru_stt.exporters.text import to_txt
from kazru_stt.i18n import translations


@dataclass(frozen=True)
class ExportFormat:
    name: str
    render: Callable[..., bytes]
    content_type: str
    extension: str
    binary: bool = False
    document: bool = True  # read by people: written in the reader's language (for_reader.py)


FORMATS: dict[str, ExportFormat] = {
    "txt": ExportFormat("txt", to_txt, "text/plain; charset=utf-8", "txt"),
    "srt": ExportFormat("srt", to_srt, "application/x-subrip; charset=utf-8", "srt"),
    "vtt": ExportFormat("vtt", to_vtt, "text/vtt; charset=utf-8", "vtt"),
    "json": ExportFormat("json", to_json, "application/json", "json", document=False),
    "docx": ExportFormat(
        "docx",
        to_docx,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        binary=True,
    ),
    "pdf": ExportFormat("pdf", to_pdf, "application/pdf", "pdf", binary=True),
}


def get_format(name: str) -> ExportFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise InvalidOptionError(
            f"unknown export format {name!r}; choose one of {', '.join(FORMATS)}",
            code=ErrorCode.UNSUPPORTED_FORMAT,
        ) from None


def export(
    transcript: Transcript,
    fmt: str,
    *,
    lang: str | None = None,
    inaudible_markers: bool = True,
    redactions: Redactions | None = None,
    **options: object,
) -> bytes:
    """`fmt` of the transcript. A document is written in the reader's language `lang`
    (default: the transcript's): its labels, unnamed speakers, and a marker where a passage
    could not be read, unless asked not to. With `redactions`, an anonymised copy
    (redaction.py), what was found counted into it."""
    chosen = get_format(fmt)
    locale = reader_language(lang, transcript)
    if redactions is not None:
        transcript = redacted(transcript, translations(locale).gettext, redactions)
    if chosen.document:
        transcript = for_reader(transcript, locale, inaudible_markers=inaudible_markers)
    return chosen.render(transcript, locale=locale, **options)
