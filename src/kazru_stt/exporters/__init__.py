"""Exporters: Transcript -> bytes in txt, srt, vtt, json or docx."""

from kazru_stt.exporters.registry import FORMATS, ExportFormat, export, get_format

__all__ = ["FORMATS", "ExportFormat", "export", "get_format"]
