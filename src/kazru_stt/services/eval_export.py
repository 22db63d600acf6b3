"""Reviewed transcripts as an evaluation set, in the eval manifest format: one WAV per
segment (16 kHz mono) and `manifest.jsonl` (`id`, `lang`, `audio`, `text` a line), so the
project's benchmarks run on it unchanged
(`KAZRU_EVAL_DIR=DIR benchmarks/eval_pipeline.py`).

Only transcripts whose owner gave consent, that were reviewed, and whose recording is still
within its retention period are exported; expired audio never is.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from kazru_stt.db.models import Job, SegmentRow, utcnow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.errors import KazruError
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.media import load_audio
from kazru_stt.media.encode import write_wav
from kazru_stt.services import audit
from kazru_stt.services.accounts import Caller
from kazru_stt.services.context import ServiceContext

RATE = 16000
MIN_SEGMENT_S = 0.2  # shorter pieces hold no word worth scoring


def _exportable(db) -> list[Job]:
    now = utcnow()  # past its expiry, retention is about to delete it: never exported
    return list(
        db.scalars(
            select(Job)
            .where(
                Job.status == JobStatus.COMPLETED,
                Job.reviewed_at.is_not(None),
                Job.eval_consent.is_(True),
                Job.storage_key.is_not(None),
                Job.audio_deleted_at.is_(None),
                Job.expires_at.is_(None) | (Job.expires_at > now),
            )
            .order_by(Job.reviewed_at)
        ).all()
    )


def export_set(ctx: ServiceContext, caller: Caller, out_dir: Path) -> dict[str, int]:
    """Write the set into `out_dir` (created); returns how many transcripts and segments."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "audio").mkdir(exist_ok=True)
    with session_scope(ctx.db_url) as db:
        jobs = _exportable(db)
        segments = {
            j.id: db.scalars(
                select(SegmentRow).where(SegmentRow.job_id == j.id).order_by(SegmentRow.idx)
            ).all()
            for j in jobs
        }
    lines, used = [], 0
    for job in jobs:
        rows = [r for r in segments[job.id] if r.text.strip() and r.end - r.start >= MIN_SEGMENT_S]
        if not rows or job.storage_key is None:  # nothing said, or its audio is gone
            continue
        try:
            with ctx.storage.local_path(job.storage_key) as path:
                audio = load_audio(path)
        except KazruError:
            continue  # the file went (retention ran meanwhile): nothing of it is exported
        used += 1
        for row in rows:
            clip_id = f"kazru_{job.id[:12]}_{row.idx:04d}"
            piece = audio[int(row.start * RATE) : int(row.end * RATE)]
            write_wav(out_dir / "audio" / f"{clip_id}.wav", piece, RATE)
            lines.append(
                {
                    "id": clip_id,
                    "lang": row.language or "und",
                    "audio": f"audio/{clip_id}.wav",
                    "text": row.text.strip(),
                    "reference": "human",
                    "duration_s": round(piece.size / RATE, 2),
                    "source_repo": "kazru-stt",
                    "source_path": f"transcriptions/{job.id}/segments/{row.idx}",
                    "license": "owner consent (evaluation only)",
                    "notes": f"reviewed {job.reviewed_at:%Y-%m-%d}; machine: {job.engine}",
                }
            )
    with (out_dir / "manifest.jsonl").open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    with session_scope(ctx.db_url) as db:
        audit.record(
            db,
            "evaluation.export",
            actor_id=caller.user_id,
            details={"transcripts": used, "segments": len(lines)},
        )
    return {"transcripts": used, "segments": len(lines)}
