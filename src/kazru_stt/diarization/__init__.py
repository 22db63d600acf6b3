"""Speaker diarization: who spoke when, offline (CAM++ speaker embeddings + clustering, the
changes between speakers placed by pyannote's segmentation model)."""

from kazru_stt.diarization.assign import assign_speakers, find_turns, speaker_turns
from kazru_stt.diarization.change_points import LocalSpeakers
from kazru_stt.diarization.cluster import SpeakerBounds, cluster_windows
from kazru_stt.diarization.embed import SpeakerEmbedder, Window

__all__ = [
    "LocalSpeakers",
    "SpeakerBounds",
    "SpeakerEmbedder",
    "Window",
    "assign_speakers",
    "cluster_windows",
    "find_turns",
    "speaker_turns",
]
