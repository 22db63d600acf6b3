"""Remembered voices: when a user with voice memory on names a speaker, that speaker's voice
(its averaged embedding) is kept under the name; later diarized recordings of the same user
get the name suggested for a speaker whose voice matches. Voices are biometric data: memory
is off until the user turns it on, a voice belongs to one user and is never compared with
anyone else's recordings, and turning memory off deletes every voice and voiceprint kept.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kazru_stt.db.models import Job, SpeakerRow, User, VoiceRow, utcnow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.errors import NotFound
from kazru_stt.domain.transcript import Speaker
from kazru_stt.services import audit
from kazru_stt.services.context import ServiceContext

# Cosine similarity of two speakers' mean CAM++ embeddings at or above which they are taken
# for one voice: the lowest with no wrong match among 798 pairs of different speakers in
# the Kazakh/Russian clips and a broadcast's halves (highest 0.74; the same speakers
# 0.90-0.95); held out, on AMI meeting excerpts: other speakers at most 0.59, and the one
# same-speaker pair 0.71, so missed (benchmarks/voice_match.py). Few pairs: a suggestion,
# never applied by itself.
VOICE_MATCH = 0.74


def _memory_on(db: Session, user_id: int | None) -> bool:
    user = db.get(User, user_id) if user_id is not None else None
    return bool(user and user.remember_voices)


def keeps_voices(ctx: ServiceContext, user_id: int | None) -> bool:
    """Whether the user has voice memory on (their jobs keep their speakers' voices)."""
    with session_scope(ctx.db_url) as db:
        return _memory_on(db, user_id)


def _similarity(a, b) -> float:
    if len(a) != len(b):  # a voice kept by an earlier speaker model: not comparable
        return -1.0
    return float(np.dot(np.asarray(a, np.float32), np.asarray(b, np.float32)))


def speaker_rows(db: Session, job_id: str, speakers: list[Speaker]) -> list[SpeakerRow]:
    """The job's speaker rows: with voices and suggested names when its owner keeps
    voices, without any voice otherwise."""
    owner = db.scalar(select(Job.owner_id).where(Job.id == job_id))
    keep = _memory_on(db, owner)
    known = db.scalars(select(VoiceRow).where(VoiceRow.user_id == owner)).all() if keep else []
    rows = []
    for s in speakers:
        row = SpeakerRow(job_id=job_id, label=s.label, name=s.name)
        if keep and s.voice:
            row.voice = list(s.voice)
            scored = [(_similarity(s.voice, v.embedding), v.name) for v in known]
            best = max(scored, default=(0.0, None))
            if best[0] >= VOICE_MATCH:
                row.suggested_name = best[1]
        rows.append(row)
    return rows


def remember(db: Session, job: Job, row: SpeakerRow) -> None:
    """A speaker was named: keep (or refine) that voice under the name, if the job's owner
    keeps voices. The voice is the running mean of every speaker given the name."""
    if not row.name or not row.voice or not _memory_on(db, job.owner_id):
        return
    voice = db.scalars(
        select(VoiceRow).where(VoiceRow.user_id == job.owner_id, VoiceRow.name == row.name)
    ).first()
    if voice is None:
        db.add(VoiceRow(user_id=job.owner_id, name=row.name, embedding=row.voice, samples=1))
        return
    if len(voice.embedding) != len(row.voice):  # kept by an earlier speaker model: start over
        voice.embedding, voice.samples = list(row.voice), 0
    mean = np.asarray(voice.embedding) * voice.samples + np.asarray(row.voice)
    mean /= np.linalg.norm(mean) + 1e-9
    voice.embedding = [round(float(x), 6) for x in mean]
    voice.samples += 1
    voice.updated_at = utcnow()


def _voice_dict(v: VoiceRow) -> dict:
    # Never the embedding: it leaves the database for nothing but comparison.
    return {
        "id": v.id,
        "name": v.name,
        "samples": v.samples,
        "created_at": v.created_at,
        "updated_at": v.updated_at,
    }


def list_voices(ctx: ServiceContext, user_id: int) -> dict:
    with session_scope(ctx.db_url) as db:
        rows = db.scalars(
            select(VoiceRow).where(VoiceRow.user_id == user_id).order_by(VoiceRow.name)
        ).all()
        return {"enabled": _memory_on(db, user_id), "data": [_voice_dict(v) for v in rows]}


def delete_voice(ctx: ServiceContext, user_id: int, voice_id: int) -> None:
    with session_scope(ctx.db_url) as db:
        voice = db.get(VoiceRow, voice_id)
        if voice is None or voice.user_id != user_id:  # another's voice does not exist here
            raise NotFound(f"voice {voice_id} not found")
        db.delete(voice)
        audit.record(db, "voice.delete", actor_id=user_id, target=f"voice:{voice_id}")


def set_memory(ctx: ServiceContext, user_id: int, enabled: bool) -> dict:
    """Turn voice memory on or off; off deletes every voice and voiceprint of the user."""
    with session_scope(ctx.db_url) as db:
        user = db.get(User, user_id)
        if user is None:
            raise NotFound(f"user {user_id} not found")
        user.remember_voices = enabled
        if not enabled:
            db.query(VoiceRow).filter(VoiceRow.user_id == user_id).delete()
            jobs = select(Job.id).where(Job.owner_id == user_id).scalar_subquery()
            db.execute(
                update(SpeakerRow)
                .where(SpeakerRow.job_id.in_(jobs))
                .values(voice=None, suggested_name=None)
            )
        audit.record(
            db, "voices.memory", actor_id=user_id, target=f"user:{user_id}", details={"on": enabled}
        )
    return list_voices(ctx, user_id)
