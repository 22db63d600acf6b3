"""What the templates show, shaped from jobs and transcripts (no HTML here)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from kazru_stt.config import Settings
from kazru_stt.db.models import Job
from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.job_status import stage_of
from kazru_stt.domain.languages import DEFAULT_THIRD_LANGUAGES, KAZAKH, KAZAKH_RUSSIAN
from kazru_stt.domain.search_text import marked
from kazru_stt.domain.transcript import Transcript
from kazru_stt.exporters.for_reader import speaker_names
from kazru_stt.i18n import (
    ENGINE_LABELS,
    ERROR_MESSAGES,
    LANGUAGE_NAMES,
    _,
    language_name,
    local_time,
    recognition,
    speaker_title,
)
from kazru_stt.services import engines as registry

# Speaker colours with enough contrast on white for text and borders (WCAG AA for text).
SPEAKER_COLOURS = ["#1f5fa8", "#a8321f", "#2a7a3b", "#7a2a7a", "#8a5a00", "#1f7a7a"]
BUNDLED_MODEL_MARK = "whisper-base"
UNSURE_WORD = 0.5  # words the engine was less sure of are underlined for checking


STATUS_LABELS = {
    "queued": _("queued"),
    "processing": _("processing"),
    "completed": _("completed"),
    "failed": _("failed"),
    "canceled": _("canceled"),
    "expired": _("expired"),
}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def job_row(job: Job, emails: dict[int, str] | None = None, zone: str = "UTC") -> dict:
    """`emails` (admin pages) names each job's owner; times are clocks in `zone`."""
    meta = job.result_meta or {}
    return {
        "id": job.id,
        "filename": job.filename,
        "status": job.status,
        "status_label": status_label(job.status),  # an English msgid: templates translate
        "progress": job.progress,
        "stage": stage_of(job.status, job.stage),
        "duration": clock(job.duration_s),
        "languages": meta.get("languages") or [],
        "created": job.created_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
        if job.created_at
        else "",
        "error": job.error_message if job.error_code else None,
        # An English msgid the templates translate, where the code has one.
        "error_text": ERROR_MESSAGES.get(job.error_code or ""),
        "owner": emails.get(job.owner_id) if emails and job.owner_id is not None else None,
        "reviewed": job.reviewed_at is not None,
        "eval_consent": bool(job.eval_consent),
    }


def word_gaps(text: str, words: list[str]) -> tuple[list[str], str]:
    """What the passage's text holds before each word, and after the last: the words shown
    one by one must read as the text does ("Волго-волго" is one word in two pieces, not
    "Волго -волго"). Words that are not found in order in the text: a space between each."""
    gaps, at = [], 0
    for word in words:
        found = text.find(word, at)
        if found < 0:
            return ([""] + [" "] * (len(words) - 1)) if words else [], ""
        gaps.append(text[at:found])
        at = found + len(word)
    return gaps, text[at:]


def _words_view(s) -> dict:
    shown = [w.text.strip() for w in s.words]
    gaps, tail = word_gaps(s.text or "", shown)
    words = [
        {
            "start": w.start,
            "end": w.end,
            "text": text,
            "gap": gap,
            "unsure": w.probability < UNSURE_WORD,
        }
        for w, text, gap in zip(s.words, shown, gaps, strict=True)
    ]
    return {"words": words, "tail": tail}


def transcript_view(t: Transcript, locale: str) -> dict:
    order = [s.label for s in t.speakers]
    # A speaker nobody named is "Сөйлеуші 1" / "Спикер 1", as in the exports.
    untitled = {s.label: speaker_title(s.label, locale) for s in t.speakers}
    names = speaker_names(t, locale)

    colours = {label: SPEAKER_COLOURS[i % len(SPEAKER_COLOURS)] for i, label in enumerate(order)}
    return {
        "segments": [
            {
                "id": s.id,
                "start": s.start,
                "end": s.end,
                "clock": clock(s.start),
                "text": s.text,
                "language": s.language,
                "speaker": s.speaker,
                "speaker_name": names[s.speaker] if s.speaker else None,
                "colour": colours.get(s.speaker or "", "#444"),
                **_words_view(s),
                "low_confidence": s.low_confidence,
                "edited": s.edited,
            }
            for s in t.segments
        ],
        "speakers": [
            {
                "label": s.label,
                "name": s.name,
                "title": names[s.label],
                "untitled": untitled[s.label],
                "suggested_name": s.suggested_name,  # a remembered voice matched
                "colour": colours[s.label],
            }
            for s in t.speakers
        ],
        "languages": t.languages,
        "language_names": [language_name(code, locale) for code in t.languages],
        "recognition": recognition(t.engine, t.model, locale),
        "no_speech": not t.segments,
        "duration": clock(t.duration),
        "engine": t.engine,
        "model": t.model,
        "warnings": t.warnings,
    }


def language_choices(current: str | None) -> list[str]:
    """The languages a passage can be set to in the editor (plus its own, if another)."""
    choices = [*KAZAKH_RUSSIAN, *DEFAULT_THIRD_LANGUAGES]
    return choices if current in choices or not current else [*choices, current]


def weak_kazakh(t: Transcript, settings: Settings) -> bool:
    """Kazakh passages from the small bundled model: its Kazakh text is not to be trusted."""
    kazakh = any(s.language == KAZAKH for s in t.segments)
    bundled = t.engine == EngineName.LOCAL and (
        settings.model_path is None or BUNDLED_MODEL_MARK in (t.model or "")
    )
    return kazakh and bundled


def engines(settings: Settings) -> list[tuple[str, str]]:
    return [
        (spec.name, ENGINE_LABELS.get(spec.name, spec.label))
        for spec in registry.configured(settings)
    ]


def js_strings(gettext) -> dict[str, str]:
    """Strings the page scripts show, translated on the server."""
    keys = {
        "saved": _("Saved"),
        "save_failed": _("Could not save"),
        "vocabulary_refused": _(
            "Not saved: a term is longer than 80 characters, holds a control character, "
            "or there are too many."
        ),
        "undo": _("Undo"),
        "split_hint": _("Put the cursor where the passage should be split, then press Ctrl+Enter"),
        "split_hint_touch": _("Tap where the passage should be split, then tap Split again"),
        "reviewed": _("Reviewed"),
        "mark_reviewed": _("Mark as reviewed"),
        "uploading": _("Uploading"),
        "uploaded": _("Uploaded"),
        "upload_failed": _("Upload failed"),
        "confirm_delete": _("Delete this transcription and its recording for good?"),
        "confirm_erase": _("Erase your account and everything in it for good?"),
        "password_changed": _("Password changed. Your other sessions have been signed out."),
        "password_wrong_password": _("The current password is wrong."),
        "password_weak_password": _("The new password needs at least 8 characters."),
        "confirm_revoke": _("Revoke this key? Programs using it will stop working."),
        "rename_prompt": _("Name of this speaker"),
        "speed": _("Speed"),
        "queue_place": _("Place in the queue: %(n)s"),
        "queue_wait": _("it starts in about %(minutes)s min"),
        "link_until": _("Valid until"),
        "link_revoked": _("Revoked"),
        "link_opened": _("Opened"),
        "revoke": _("Revoke"),
        **{f"error_{code}": message for code, message in ERROR_MESSAGES.items()},
        "copied": _("Copied"),
        "finding_speakers": _("Finding the speakers… the page shows them when they are found."),
        "pause": _("Pause"),
        "resume": _("Resume"),
        "live_listening": _("Listening…"),
        "live_paused": _("Paused"),
        "live_saving": _("Saving…"),
        "live_saved": _("Saved to your transcriptions."),
        "live_closed": _("The connection was closed."),
        "live_no_microphone": _("The microphone cannot be used: allow it for this site."),
        **{f"language_{code}": name for code, name in LANGUAGE_NAMES.items()},
        "selected": _("Selected: %(n)s"),
        "found_count": _("Found: %(n)s"),
        "replaced_count": _("Replaced: %(n)s"),
        "confirm_delete_workspace": _(
            "Delete this workspace? Its transcriptions stay with their owners."
        ),
        "preparing": _("Preparing the download…"),
        "skipped_unfinished": _("%(n)s not finished yet: left out (listed in skipped.json)"),
        "confirm_delete_many": _("Delete %(n)s transcriptions and their recordings for good?"),
        "open": _("Open"),
        "setting_administrator": SOURCE_LABELS["database"],
        **STATUS_LABELS,
    }
    return {k: gettext(v) for k, v in keys.items()}


# What each kind of correction is called in the history panel (corrections._record's names).
CORRECTION_LABELS = {
    "text": _("Text corrected"),
    "language": _("Language changed"),
    "speaker": _("Speaker changed"),
    "segment": _("Passage changed"),
    "split": _("Split"),
    "merge": _("Merged"),
    "replace": _("Replaced everywhere"),
    "diarize": _("Speakers found again"),
}


# The admin page's names of the settings that change at run time (settings_in_effect.TUNABLE)
# and of where a value comes from (runtime_settings.Source).
SETTING_LABELS = {
    "languages": _("Languages a passage's language is chosen from"),
    "third_languages": _("Other languages recognised"),
    "third_language_action": _("What is done with other languages"),
    "engine": _("Default engine"),
    "default_model": _("Default model"),
    "diarize_by_default": _("Find speakers unless asked not to"),
    "quota_active_jobs": _("Transcriptions running or queued per user"),
    "quota_monthly_minutes": _("Minutes of audio per user and month"),
    "retention_audio_hours": _("Hours recordings are kept"),
    "retention_days": _("Days transcripts are kept"),
    "rate_limit_per_key": _("Requests per key"),
    "rate_limit_per_address": _("Requests per address"),
    "rate_limit_uploads": _("Uploads per user"),
    "rate_limit_login": _("Sign-in attempts per address"),
    "timezone": _("Time zone"),
}
SOURCE_LABELS = {
    "default": _("default"),
    "environment": _("server environment"),
    "database": _("administrator"),
}


def history_view(items: list[dict], zone: str, locale: str) -> list[dict]:
    """The corrections, newest first, as the history panel shows them."""

    def said(snaps: list[dict]) -> str:
        return " | ".join(s["text"] or "—" for s in snaps)

    return [
        {
            "when": local_time(item["at"], zone, locale),
            "who": item["actor"] or "—",
            "what": CORRECTION_LABELS.get(item["action"], item["action"]),
            "clock": clock(item["before"][0]["start"]) if item["before"] else "",
            "before": said(item["before"]),
            "after": said(item["after"]),
            "undone": item["undone"],
        }
        for item in items
    ]


def versions_view(items: list[dict], zone: str, locale: str) -> list[dict]:
    """The transcripts a job had before it was recognised again, oldest first."""
    return [
        {
            "number": v["number"],
            "when": local_time(v["created_at"], zone, locale),
            "recognition": recognition(v["engine"], v["model"], locale),
        }
        for v in items
    ]


def week_label(iso_week: str) -> str:
    """An ISO week ("2026-W49") as the days it spans ("30.11–06.12"), as people read it."""
    try:
        year, week = iso_week.split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        return iso_week
    sunday = monday + timedelta(days=6)
    return f"{monday:%d.%m}–{sunday:%d.%m}"


CHART_W, CHART_H, CHART_PAD = 640, 220, 40


def accuracy_chart(weeks: list[dict]) -> dict | None:
    """WER per week, one line per engine and model, as coordinates for an inline SVG."""
    labels = sorted({w["week"] for w in weeks})
    points = [w for w in weeks if w["wer"] is not None]
    if not points:
        return None
    top = max(0.1, max(w["wer"] for w in points))
    step = (CHART_W - 2 * CHART_PAD) / max(1, len(labels) - 1)

    def x(week: str) -> float:
        return round(CHART_PAD + labels.index(week) * step, 1)

    def y(value: float) -> float:
        return round(CHART_H - CHART_PAD - value / top * (CHART_H - 2 * CHART_PAD), 1)

    series: dict[str, list[dict]] = {}
    for w in points:
        name = f"{w['engine']} · {w['model']}" if w["model"] else w["engine"]
        series.setdefault(name, []).append(
            {"x": x(w["week"]), "y": y(w["wer"]), "wer": w["wer"], "minutes": w["minutes"]}
        )
    return {
        "width": CHART_W,
        "height": CHART_H,
        "left": CHART_PAD,
        "bottom": CHART_H - CHART_PAD,
        "right": CHART_W - CHART_PAD,
        "series": [
            {
                "name": name,
                "colour": SPEAKER_COLOURS[i % len(SPEAKER_COLOURS)],
                "points": " ".join(f"{d['x']},{d['y']}" for d in dots),
                "dots": dots,
            }
            for i, (name, dots) in enumerate(sorted(series.items()))
        ],
        "weeks": [{"x": x(label), "label": label} for label in labels],
        "ticks": [{"y": y(top * f), "label": f"{top * f:.0%}"} for f in (0, 0.5, 1)],
    }


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def wait_minutes(wait_s: float | None) -> int | None:
    """An estimated wait as the page says it: whole minutes, at least 1 (None: no estimate)."""
    return None if wait_s is None else max(1, math.ceil(wait_s / 60))


def search_hit(hit: dict, terms: list[str], locale: str) -> dict:
    """One search hit as the results list shows it: where (file, time, speaker, language),
    its passage with the words found marked, and the link that opens it there."""
    speaker = hit["speaker"]
    return {
        "filename": hit["filename"],
        "at": clock(hit["start"]),
        "href": f"/app/t/{hit['job_id']}?t={hit['start']:.2f}",
        "pieces": marked(hit["text"], terms),
        "language": language_name(hit["language"], locale) if hit["language"] else "",
        "speaker": hit["speaker_name"] or (speaker_title(speaker, locale) if speaker else ""),
    }
