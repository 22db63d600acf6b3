"""docs/configuration.md, written from the settings object so the two cannot drift."""

from __future__ import annotations

from pydantic_core import PydanticUndefined

from kazru_stt.config import Settings

# The first setting of each section, and the section's title.
SECTIONS = {
    "data_dir": "Where things live",
    "engine": "Recognition",
    "yandex_api_key": "Yandex SpeechKit (cloud engine)",
    "max_upload_mb": "Service limits",
    "single_user": "Accounts and access",
    "quota_active_jobs": "Quotas (per user)",
    "rate_limit_storage": "Rate limits",
    "timezone": "Documents",
    "retention_audio_hours": "Retention",
    "webhook_secret": "Webhooks",
    "log_level": "Observability",
}

HEADER = """# Configuration

Every setting is an environment variable with the prefix `KAZRU_` (or a line in a `.env`
file passed to your process manager; see `.env.example`). Values are checked at start: a
wrong type, a guessable webhook secret or settings that contradict each other (a SQLite
database with a shared queue or S3 storage, S3 without credentials, the Yandex engine without
a key) stop the process with `error: invalid_setting: ...`.

This file is generated from `src/kazru_stt/config.py` by
`kazru config docs > docs/configuration.md`; a test fails when the two differ.
"""


def _default(name: str, field) -> str:
    if field.default_factory is not None:
        return "(see description)"
    value = field.default
    if value is PydanticUndefined or value is None:
        return "unset"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if value == "":
        return "empty"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


def render() -> str:
    lines = [HEADER.rstrip("\n")]
    for name, field in Settings.model_fields.items():
        if name in SECTIONS:
            lines += [
                "",
                f"## {SECTIONS[name]}",
                "",
                "| Variable | Default | Meaning |",
                "|---|---|---|",
            ]
        desc = (field.description or "").replace("|", "\\|")
        secret = " Secret: never logged." if field.repr is False else ""
        lines.append(f"| `KAZRU_{name.upper()}` | {_default(name, field)} | {desc}{secret} |")
    return "\n".join(lines) + "\n"
