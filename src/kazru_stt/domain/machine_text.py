"""What the engine wrote for a segment, kept beside the person's corrections.

A record is {"engine", "model", "parts": [{"start", "end", "text", "language", "words"}]}.
It starts with one part; splitting a segment cuts its parts at the split time, merging two
segments joins their parts, so the machine's text for any segment, however corrected, is
the join of its parts' texts, and each part keeps the language the machine gave it.
"""

from __future__ import annotations

from typing import Any

from kazru_stt.domain.transcript import Segment

MachineRecord = dict[str, Any]


def machine_record(seg: Segment, engine: str, model: str) -> MachineRecord:
    """`model`: the transcript's, unless a language's own model wrote the segment."""
    return {
        "engine": engine,
        "model": seg.model or model,
        "parts": [
            {
                "start": seg.start,
                "end": seg.end,
                "text": seg.text,
                "language": seg.language,
                "words": [w.to_dict() for w in seg.words],
            }
        ],
    }


def machine_text(record: MachineRecord) -> str:
    return " ".join(p["text"] for p in record["parts"] if p["text"]).strip()


def _cut_part(part: dict, at: float) -> tuple[dict | None, dict | None]:
    """A part's share before and after time `at` (by word midpoints, or by time share)."""
    if part["end"] <= at:
        return part, None
    if part["start"] >= at:
        return None, part
    words = part.get("words") or []
    if words:
        left = [w for w in words if (w["start"] + w["end"]) / 2 < at]
        right = words[len(left) :]
        left_text = " ".join(w["text"].strip() for w in left)
        right_text = " ".join(w["text"].strip() for w in right)
    else:
        tokens = part["text"].split()
        k = round(len(tokens) * (at - part["start"]) / (part["end"] - part["start"]))
        left, right = [], []
        left_text, right_text = " ".join(tokens[:k]), " ".join(tokens[k:])
    base = {"language": part["language"]}
    return (
        {**base, "start": part["start"], "end": at, "text": left_text, "words": left},
        {**base, "start": at, "end": part["end"], "text": right_text, "words": right},
    )


def split_record(record: MachineRecord, at: float) -> tuple[MachineRecord, MachineRecord]:
    left_parts, right_parts = [], []
    for part in record["parts"]:
        a, b = _cut_part(part, at)
        if a is not None:
            left_parts.append(a)
        if b is not None:
            right_parts.append(b)
    head = {"engine": record["engine"], "model": record["model"]}
    return {**head, "parts": left_parts}, {**head, "parts": right_parts}


def merge_records(first: MachineRecord, second: MachineRecord) -> MachineRecord:
    return {
        "engine": first["engine"],
        "model": first["model"],
        "parts": first["parts"] + second["parts"],
    }


def language_agreement_s(record: MachineRecord, language: str | None, seconds: float) -> float:
    """Seconds of the segment whose machine language equals `language` (the corrected one)."""
    spans = [(max(0.0, p["end"] - p["start"]), p["language"]) for p in record["parts"]]
    total = sum(d for d, _ in spans)
    if total <= 0:
        return seconds if all(lang == language for _, lang in spans) else 0.0
    return seconds * sum(d for d, lang in spans if lang == language) / total
