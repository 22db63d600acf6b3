"""Logging of every process (API, workers, CLI service commands): one JSON object a line by
default, each with the request id of the work it belongs to. What may never appear in a log
(transcript text, keys, passwords, tokens, webhook URLs) is kept out at the call sites:
URLs go through `webhook_targets.redact`, and httpx, which logs full URLs, is held at WARNING."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from kazru_stt import request_ids

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"


class _Context(logging.Filter):
    def __init__(self, role: str):
        super().__init__()
        self.role = role

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_ids.current() or "-"
        record.role = self.role
        return True


def configure(level: str = "INFO", fmt: str = "auto", role: str = "api") -> None:
    if fmt == "auto":  # people at a terminal read text; collectors read JSON
        fmt = "text" if sys.stderr.isatty() else "json"
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Context(role))
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                JSON_FIELDS,
                rename_fields={
                    "asctime": "time",
                    "levelname": "level",
                    "name": "logger",
                    "process": "pid",
                },
                timestamp=False,
                json_ensure_ascii=False,
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)  # warnings become records in the same format
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it would log full URLs
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # uvicorn's own access line has the raw path and query; ours has the route template.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error", "celery", "kombu"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
