"""A person's corrections of a completed transcript: text, language and speaker of a
segment, splitting one segment in two, merging two, with history, undo and redo.

Every correction is one `TranscriptEdit`: the full rows it replaced and the rows it put in
their place. Undo and redo swap them back, so they also undo splits and merges exactly.
The engine's own text (`SegmentRow.machine`) is never touched: it is what accuracy
measures the corrections against (services/accuracy.py).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from kazru_stt.db import search_index
from kazru_stt.db.models import Job, SegmentRow, SpeakerRow, TranscriptEdit, User, utcnow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import Conflict, InvalidOptionError, KazruError, NotFound
from kazru_stt.domain.machine_text import merge_records, split_record
from kazru_stt.domain.transcript import Word
from kazru_stt.domain.word_timing import retime
from kazru_stt.pipeline.options import supported_languages
from kazru_stt.services import accuracy, voices
from kazru_stt.services.accounts import Caller
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.jobs import lock_completed

MAX_SEGMENT_TEXT = 10_000  # characters in one edited segment
_ROW_FIELDS = (
    "start",
    "end",
    "text",
    "language",
    "speaker",
    "avg_logprob",
    "edited",
    "low_confidence",
)


def _snap(row: SegmentRow) -> dict[str, Any]:
    return {
        **{name: getattr(row, name) for name in _ROW_FIELDS},
        "words": (row.words or {}).get("words", []),
        "machine": row.machine,
    }


def _public(idx: int, snap: dict[str, Any]) -> dict[str, Any]:
    """A segment as the API shows it after a correction."""
    return {
        "id": idx,
        "start": round(snap["start"], 3),
        "end": round(snap["end"], 3),
        "text": snap["text"],
        "language": snap["language"],
        "speaker": snap["speaker"],
        "edited": snap["edited"],
        "words": snap["words"],
    }


def _rows(db: Session, job_id: str, first: int, count: int) -> list[SegmentRow]:
    rows = db.scalars(
        select(SegmentRow)
        .where(SegmentRow.job_id == job_id, SegmentRow.idx >= first, SegmentRow.idx < first + count)
        .order_by(SegmentRow.idx)
    ).all()
    if len(rows) != count:
        raise NotFound(f"segment {first + len(rows)} not found")
    return list(rows)


def _with_machine(row: SegmentRow, job: Job) -> dict[str, Any]:
    return {**_snap(row), "machine": accuracy.machine_of(row, job)}


def _replace(db: Session, job: Job, first: int, old_count: int, new: list[dict]) -> None:
    """Put `new` where the `old_count` segments from `first` were, renumbering the rest;
    the search index follows in the same transaction (renumbered rows keep their ids)."""
    job_id = job.id
    replaced = (
        (SegmentRow.job_id == job_id)
        & (SegmentRow.idx >= first)
        & (SegmentRow.idx < first + old_count)
    )
    search_index.unindex_segments(db, db.scalars(select(SegmentRow.id).where(replaced)))
    db.execute(delete(SegmentRow).where(replaced))
    shift = len(new) - old_count
    if shift:
        # Through negative numbers, so that no two rows share an index at any moment
        # (PostgreSQL checks the unique constraint row by row).
        later = (SegmentRow.job_id == job_id) & (SegmentRow.idx >= first + old_count)
        db.execute(update(SegmentRow).where(later).values(idx=-(SegmentRow.idx + shift) - 1))
        db.execute(
            update(SegmentRow)
            .where(SegmentRow.job_id == job_id, SegmentRow.idx < 0)
            .values(idx=-SegmentRow.idx - 1)
        )
    db.flush()
    added = [
        SegmentRow(
            job_id=job_id,
            idx=first + offset,
            **{name: snap[name] for name in _ROW_FIELDS},
            words={"words": snap["words"]},
            machine=snap["machine"],
        )
        for offset, snap in enumerate(new)
    ]
    db.add_all(added)
    db.flush()
    search_index.index_segments(db, added, job)


def _record(
    db: Session,
    job: Job,
    actor_id: int | None,
    action: str,
    first: int,
    before: list[dict],
    after: list[dict],
) -> None:
    """Apply a correction and keep it in the history (forgetting what was undone)."""
    _replace(db, job, first, len(before), after)
    db.execute(delete(TranscriptEdit).where(TranscriptEdit.job_id == job.id, TranscriptEdit.undone))
    last = db.scalar(select(func.max(TranscriptEdit.seq)).where(TranscriptEdit.job_id == job.id))
    db.add(
        TranscriptEdit(
            job_id=job.id,
            seq=(last or 0) + 1,
            actor_id=actor_id,
            at=utcnow(),
            action=action,
            first_idx=first,
            before={"segments": before},
            after={"segments": after},
            undone=False,
        )
    )
    if job.reviewed_at is not None:
        accuracy.rescore(db, job)


def _check_language(code: str | None) -> None:
    if code is not None and code not in supported_languages():
        raise InvalidOptionError(f"unsupported language {code!r}")


def _ensure_speaker(db: Session, job_id: str, label: str | None) -> None:
    if label is None:
        return
    known = db.scalar(
        select(SpeakerRow.id).where(SpeakerRow.job_id == job_id, SpeakerRow.label == label)
    )
    if known is None:  # a speaker the machine missed: the person adds it
        db.add(SpeakerRow(job_id=job_id, label=label))


def edit_segment(
    ctx: ServiceContext, caller: Caller, job: Job, index: int, changes: dict[str, Any]
) -> dict:
    """Change a segment's `text`, `language` and/or `speaker` (only the keys given)."""
    _check_language(changes.get("language"))
    with session_scope(ctx.db_url) as db:
        locked = lock_completed(db, job.id, "edited")
        (row,) = _rows(db, job.id, index, 1)
        before = _with_machine(row, locked)
        after = dict(before)
        if "text" in changes:
            text = (changes["text"] or "").strip()
            if text != before["text"]:
                old = [Word.from_dict(w) for w in before["words"]]
                after["text"] = text
                after["low_confidence"] = False  # a person wrote it
                after["words"] = [w.to_dict() for w in retime(old, text, row.start, row.end)]
        if "language" in changes:
            after["language"] = changes["language"]
        if "speaker" in changes:
            after["speaker"] = changes["speaker"] or None
            _ensure_speaker(db, job.id, after["speaker"])
        changed = [k for k in ("text", "language", "speaker") if after[k] != before[k]]
        if not changed:
            return _public(index, before)
        after["edited"] = True
        action = changed[0] if len(changed) == 1 else "segment"
        _record(db, locked, caller.user_id, action, index, [before], [after])
        return _public(index, after)


def _split_time(snap: dict, left_text: str) -> float:
    """Where the text split falls in time: between the words on either side of it."""
    start, end = snap["start"], snap["end"]
    words = snap["words"]
    k = len(left_text.split())
    if words and len(words) == len(snap["text"].split()) and 0 < k < len(words):
        return (words[k - 1]["end"] + words[k]["start"]) / 2
    share = len(left_text) / max(1, len(snap["text"]))
    return start + (end - start) * share


def split_segment(ctx: ServiceContext, caller: Caller, job: Job, index: int, at: int) -> list:
    """Split a segment at character `at` of its text into two segments."""
    with session_scope(ctx.db_url) as db:
        locked = lock_completed(db, job.id, "edited")
        (row,) = _rows(db, job.id, index, 1)
        before = _with_machine(row, locked)
        text = before["text"]
        left_text, right_text = text[:at].strip(), text[at:].strip()
        if not left_text or not right_text:
            raise KazruError(
                "split inside the text: both parts need words", code=ErrorCode.INVALID_SPLIT
            )
        t = min(max(_split_time(before, text[:at]), row.start), row.end)
        old = [Word.from_dict(w) for w in before["words"]]
        left_machine = right_machine = None
        if before["machine"] is not None:
            left_machine, right_machine = split_record(before["machine"], t)
        halves = []
        for part_text, lo, hi, machine in (
            (left_text, row.start, t, left_machine),
            (right_text, t, row.end, right_machine),
        ):
            words = retime(old, part_text, lo, hi)
            halves.append(
                {
                    **before,
                    "start": lo,
                    "end": hi,
                    "text": part_text,
                    "words": [w.to_dict() for w in words],
                    "machine": machine,
                    "edited": True,
                }
            )
        _record(db, locked, caller.user_id, "split", index, [before], halves)
        return [_public(index + i, s) for i, s in enumerate(halves)]


MAX_FIND = 200  # characters of a find-and-replace's text


def replace_all(
    ctx: ServiceContext,
    caller: Caller,
    job: Job,
    find: str,
    replacement: str,
    *,
    match_case: bool = False,
) -> dict:
    """Replace every occurrence of `find` in the transcript's text: one correction (undone
    in one step), from the first passage it changed to the last. {"replaced": occurrences,
    "segments": passages changed}."""
    if not find.strip():
        raise InvalidOptionError("give the text to find")
    pattern = re.compile(re.escape(find), 0 if match_case else re.IGNORECASE)
    with session_scope(ctx.db_url) as db:
        locked = lock_completed(db, job.id, "edited")
        rows = db.scalars(
            select(SegmentRow).where(SegmentRow.job_id == job.id).order_by(SegmentRow.idx)
        ).all()
        found = {r.idx: len(pattern.findall(r.text or "")) for r in rows}
        touched = [idx for idx, n in found.items() if n]
        if not touched:
            return {"replaced": 0, "segments": 0}
        first, last = touched[0], touched[-1]
        before = [_with_machine(r, locked) for r in rows if first <= r.idx <= last]
        after = []
        for idx, snap in enumerate(before, start=first):
            if not found[idx]:
                after.append(snap)
                continue
            text = " ".join(pattern.sub(lambda _m: replacement, snap["text"]).split())
            if len(text) > MAX_SEGMENT_TEXT:
                raise InvalidOptionError(f"passage {idx} would be longer than allowed")
            old = [Word.from_dict(w) for w in snap["words"]]
            words = retime(old, text, snap["start"], snap["end"])
            changed = {"text": text, "words": [w.to_dict() for w in words]}
            after.append({**snap, **changed, "edited": True, "low_confidence": False})
        _record(db, locked, caller.user_id, "replace", first, before, after)
        return {"replaced": sum(found.values()), "segments": len(touched)}


def merge_segments(ctx: ServiceContext, caller: Caller, job: Job, index: int) -> dict:
    """Merge a segment with the one after it."""
    with session_scope(ctx.db_url) as db:
        locked = lock_completed(db, job.id, "edited")
        (first_row,) = _rows(db, job.id, index, 1)
        if not _exists(db, job.id, index + 1):
            raise Conflict(f"segment {index} is the last one", code=ErrorCode.NOTHING_TO_MERGE)
        (second_row,) = _rows(db, job.id, index + 1, 1)
        a, b = _with_machine(first_row, locked), _with_machine(second_row, locked)
        longer = a if a["end"] - a["start"] >= b["end"] - b["start"] else b
        machine = None
        if a["machine"] is not None and b["machine"] is not None:
            machine = merge_records(a["machine"], b["machine"])
        merged = {
            "start": a["start"],
            "end": b["end"],
            "text": f"{a['text']} {b['text']}".strip(),
            "language": longer["language"],
            "speaker": longer["speaker"],
            "avg_logprob": longer["avg_logprob"],
            "edited": True,
            "low_confidence": a["low_confidence"] and b["low_confidence"],
            "words": a["words"] + b["words"],
            "machine": machine,
        }
        _record(db, locked, caller.user_id, "merge", index, [a, b], [merged])
        return _public(index, merged)


def set_speakers(db: Session, job: Job, actor_id: int | None, speakers: list[str | None]) -> int:
    """Give the passages these speakers (one each, in order) as one correction, "diarize"
    (undone in one step); `job` locked by the caller. Returns how many passages changed."""
    rows = db.scalars(
        select(SegmentRow).where(SegmentRow.job_id == job.id).order_by(SegmentRow.idx)
    ).all()
    if len(rows) != len(speakers):
        raise Conflict("the transcript changed meanwhile", code=ErrorCode.CONFLICT)
    changed = [i for i, (r, s) in enumerate(zip(rows, speakers, strict=True)) if r.speaker != s]
    if not changed:
        return 0
    first, last = changed[0], changed[-1]
    before = [_with_machine(r, job) for r in rows[first : last + 1]]
    after = [{**snap, "speaker": speakers[first + i]} for i, snap in enumerate(before)]
    for label in {s for s in speakers if s}:
        _ensure_speaker(db, job.id, label)
    _record(db, job, actor_id, "diarize", first, before, after)
    return len(changed)


def _exists(db: Session, job_id: str, index: int) -> bool:
    return (
        db.scalar(select(SegmentRow.id).where(SegmentRow.job_id == job_id, SegmentRow.idx == index))
        is not None
    )


def _step(ctx: ServiceContext, job: Job, *, redo: bool) -> dict:
    with session_scope(ctx.db_url) as db:
        locked = lock_completed(db, job.id, "edited")
        order = TranscriptEdit.seq.asc() if redo else TranscriptEdit.seq.desc()
        entry = db.scalars(
            select(TranscriptEdit)
            .where(TranscriptEdit.job_id == job.id, TranscriptEdit.undone == redo)
            .order_by(order)
            .limit(1)
        ).first()
        if entry is None:
            what = "redo" if redo else "undo"
            raise Conflict(f"nothing to {what}", code=ErrorCode(f"nothing_to_{what}"))
        old, new = entry.before["segments"], entry.after["segments"]
        put, replaced = (new, old) if redo else (old, new)
        _rows(db, job.id, entry.first_idx, len(replaced))  # the history still fits
        _replace(db, locked, entry.first_idx, len(replaced), put)
        entry.undone = not redo
        if locked.reviewed_at is not None:
            accuracy.rescore(db, locked)
        return {
            "action": entry.action,
            "first": entry.first_idx,
            "removed": len(replaced),
            "segments": [_public(entry.first_idx + i, s) for i, s in enumerate(put)],
            **_can(db, job.id),
        }


def undo(ctx: ServiceContext, job: Job) -> dict:
    return _step(ctx, job, redo=False)


def redo(ctx: ServiceContext, job: Job) -> dict:
    return _step(ctx, job, redo=True)


def _can(db: Session, job_id: str) -> dict[str, bool]:
    states = set(
        db.scalars(select(TranscriptEdit.undone).where(TranscriptEdit.job_id == job_id)).all()
    )
    return {"can_undo": False in states, "can_redo": True in states}


def undo_state(ctx: ServiceContext, job: Job) -> dict[str, bool]:
    with session_scope(ctx.db_url) as db:
        return _can(db, job.id)


def _brief(snap: dict) -> dict:
    return {k: snap[k] for k in ("start", "end", "text", "language", "speaker")}


def history(ctx: ServiceContext, job: Job, segment: int | None = None) -> dict:
    """Corrections, newest first; with `segment`, those that touched that index (indices are
    as they were at the time of each correction)."""
    with session_scope(ctx.db_url) as db:
        entries = db.scalars(
            select(TranscriptEdit)
            .where(TranscriptEdit.job_id == job.id)
            .order_by(TranscriptEdit.seq.desc())
        ).all()
        actors = {e.actor_id for e in entries if e.actor_id is not None}
        emails = dict(db.execute(select(User.id, User.email).where(User.id.in_(actors))).all())
        items = []
        for e in entries:
            span = max(len(e.before["segments"]), len(e.after["segments"]))
            if segment is not None and not e.first_idx <= segment < e.first_idx + span:
                continue
            items.append(
                {
                    "seq": e.seq,
                    "at": e.at,
                    "actor": emails.get(e.actor_id) if e.actor_id is not None else None,
                    "action": e.action,
                    "first": e.first_idx,
                    "before": [_brief(s) for s in e.before["segments"]],
                    "after": [_brief(s) for s in e.after["segments"]],
                    "undone": e.undone,
                }
            )
        return {"items": items, **_can(db, job.id)}


def rename_speaker(ctx: ServiceContext, job: Job, label: str, name: str | None) -> dict:
    with session_scope(ctx.db_url) as db:
        row = db.scalars(
            select(SpeakerRow).where(SpeakerRow.job_id == job.id, SpeakerRow.label == label)
        ).first()
        if row is None:
            raise NotFound(f"speaker {label} not found")
        row.name = (name or "").strip()[:100] or None
        voices.remember(db, job, row)
        return {"label": row.label, "name": row.name, "suggested_name": row.suggested_name}
