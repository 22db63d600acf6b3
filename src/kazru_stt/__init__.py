"""KazRu-STT Pro: speech-to-text for Kazakh and Russian recordings."""

__version__ = "0.1.0"
