"""How the command line reports an error: one line `error: <code>: <message>` on stderr (the
one place that formats them; `main` turns them into the exit status)."""

from __future__ import annotations

import sys

from kazru_stt.domain.errors import KazruError


def report(exc: KazruError) -> None:
    print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
