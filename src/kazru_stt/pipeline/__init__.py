"""One recording in, one Transcript out. No HTTP, no database, no queue."""

from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.pipeline.transcribe import transcribe_file

__all__ = ["TranscribeOptions", "transcribe_file"]
