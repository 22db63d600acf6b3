"""The request id: taken from `X-Request-ID` or made at the API's door, stored with a job,
and set again in the worker and the webhook sender, so one id finds a job in every log."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "x-request-id"
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_current: ContextVar[str | None] = ContextVar("kazru_request_id", default=None)


def current() -> str | None:
    return _current.get()


def accept(value: str | None) -> str:
    """A client's id when it is short and plain (it reaches logs), else a new one."""
    if value and _VALID.fullmatch(value):
        return value
    return uuid.uuid4().hex


@contextmanager
def bound(request_id: str | None) -> Iterator[None]:
    token = _current.set(request_id)
    try:
        yield
    finally:
        _current.reset(token)
