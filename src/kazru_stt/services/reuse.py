"""The same recording is not recognised twice: a job whose audio (its SHA-256), engine,
models and options match a completed job of the same owner, or of the same workspace, is
completed from that job's machine transcript instead. Never across owners: a recording's
text is its owner's. A model change (another model, or the same name on new weights), a
new release, or another setting that shapes the text makes another recipe."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import or_, select

from kazru_stt import __version__
from kazru_stt.config import Settings
from kazru_stt.db.models import Job, SegmentRow, SpeakerRow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.domain.transcript import Segment, Speaker, Transcript, Word
from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.services import model_registry, voices
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.jobs import options_to_dict


def _weights(path: Path | None) -> list:
    """Which weights a model directory holds now: the same name on new weights differs
    (None: the bundled model, fixed by the release)."""
    if path is None:
        return ["bundled"]
    found = path / "model.bin"
    if not found.is_file():
        return [str(path)]
    stat = found.stat()
    return [str(path), stat.st_size, stat.st_mtime_ns]


def recipe(settings: Settings, options: TranscribeOptions) -> str | None:
    """What makes a job's text: its engine, models and options, the settings that shape the
    text, the release. None where it cannot be told (a model that does not resolve)."""
    wanted = {k: v for k, v in options_to_dict(options).items() if k != "max_duration_s"}
    shape = {
        "release": __version__,
        "options": wanted,
        "third_languages": settings.third_languages,
        "third_language_action": settings.third_language_action,
        "stereo_calls": settings.stereo_calls,
        "beam_size": settings.beam_size,
        "compute_type": settings.compute_type,
    }
    if options.engine == EngineName.LOCAL:
        try:
            entry = model_registry.resolve_or_path(settings, options.model)
            languages = {} if options.model else model_registry.language_models(settings)
            shape["model"] = [entry.name, *_weights(entry.path)]
            shape["language_models"] = {
                code: [name, *_weights(model_registry.resolve(settings, name).path)]
                for code, name in sorted(languages.items())
            }
        except Exception:
            return None
    else:
        shape["engine_url"] = settings.yandex_stt_url
    return hashlib.sha256(json.dumps(shape, sort_keys=True, default=str).encode()).hexdigest()


def find(ctx: ServiceContext, job: Job, wanted: str) -> Job | None:
    """The newest completed job of the same owner or workspace with this audio and recipe,
    whole (its speakers found, where they were asked for)."""
    if not job.sha256:
        return None
    same_people = [Job.owner_id == job.owner_id]
    if job.workspace_id is not None:
        same_people.append(Job.workspace_id == job.workspace_id)
    with session_scope(ctx.db_url) as db:
        source = db.scalars(
            select(Job)
            .where(
                Job.sha256 == job.sha256,
                Job.recipe == wanted,
                Job.status == JobStatus.COMPLETED,
                Job.stage.is_(None),  # not while its speakers are being found
                Job.id != job.id,
                or_(*same_people),
            )
            .order_by(Job.finished_at.desc())
            .limit(1)
        ).first()
        if source is not None:
            db.expunge(source)
        return source


def serves(ctx: ServiceContext, job: Job, transcript: Transcript) -> bool:
    """Whether a reused transcript gives `job` all a recognition would: an owner who keeps
    voices needs each speaker's voice, which a job made with voice memory off lacks."""
    if not transcript.speakers or all(s.voice for s in transcript.speakers):
        return True
    return not voices.keeps_voices(ctx, job.owner_id)


def machine_transcript(ctx: ServiceContext, source: Job) -> Transcript:
    """The engine's own transcript of `source`, whatever people corrected since: each
    passage's machine record holds what the engine wrote for it (its parts, through splits
    and merges); the speakers are the passages' as they are now."""
    with session_scope(ctx.db_url) as db:
        rows = db.scalars(
            select(SegmentRow).where(SegmentRow.job_id == source.id).order_by(SegmentRow.idx)
        ).all()
        voice_of = {
            r.label: r.voice
            for r in db.scalars(select(SpeakerRow).where(SpeakerRow.job_id == source.id))
        }
    meta = source.result_meta or {}
    model = meta.get("model", "")
    segments: list[Segment] = []
    for row in rows:
        record = row.machine or {}
        parts = record.get("parts") or [
            {
                "start": row.start,
                "end": row.end,
                "text": row.text,
                "language": row.language,
                "words": (row.words or {}).get("words", []),
            }
        ]
        for part in parts:
            if part["end"] <= part["start"] and not part["text"]:
                continue
            words = [Word.from_dict(w) for w in part.get("words") or []]
            for w in words:
                w.speaker = row.speaker
            segments.append(
                Segment(
                    id=len(segments),
                    start=part["start"],
                    end=part["end"],
                    text=part["text"],
                    language=part["language"],
                    speaker=row.speaker,
                    words=words,
                    avg_logprob=row.avg_logprob,
                    low_confidence=not part["text"] and row.low_confidence,
                    model=None if record.get("model", model) == model else record.get("model"),
                )
            )
    used = sorted({s.speaker for s in segments if s.speaker})
    return Transcript(
        duration=meta.get("duration", source.duration_s or 0.0),
        segments=segments,
        # Suggested names are matched again when it is stored (voices.speaker_rows).
        speakers=[Speaker(label, voice=voice_of.get(label)) for label in used],
        engine=meta.get("engine", source.engine),
        model=model,
        warnings=meta.get("warnings", []),
    )
