"""Plain types shared by every layer; imports nothing from the project."""

from kazru_stt.domain.errors import KazruError, MediaError
from kazru_stt.domain.transcript import Segment, Speaker, Transcript, Word

__all__ = ["KazruError", "MediaError", "Segment", "Speaker", "Transcript", "Word"]
