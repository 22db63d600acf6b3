"""Processes the service starts (embedded workers, live recognisers) die with it."""

from __future__ import annotations

import ctypes
import signal


def die_with_parent() -> None:
    """In a child: get SIGTERM when the process that started us dies, even by SIGKILL."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass  # not Linux: the orderly stop of the parent still applies
