"""The domain JSON (see README, "Transcript JSON")."""

from __future__ import annotations

import json

from kazru_stt.domain.transcript import Transcript


def to_json(transcript: Transcript, **_: object) -> bytes:
    return json.dumps(transcript.to_dict(), ensure_ascii=False, indent=2).encode("utf-8")
