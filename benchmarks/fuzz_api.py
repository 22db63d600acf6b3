"""Schemathesis against a real `kazru serve` (embedded, one worker) with an admin's key:
every operation of the OpenAPI document, positive and negative examples, and the check
that matters here: no 5xx. Prints schemathesis' own summary. Not a test (minutes long).

    .venv/bin/python benchmarks/fuzz_api.py [--max-examples 50]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT


def main() -> int:
    from tests.service_harness import Backend, Service  # importable once common ran

    ap = argparse.ArgumentParser()
    ap.add_argument("--max-examples", type=int, default=50)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kazru-fuzz-"))
    svc = Service(
        tmp / "data",
        tmp / "models",
        Backend.embedded(),
        rate_limit_per_key="1000000/minute",
        rate_limit_per_address="1000000/minute",
        rate_limit_uploads="1000000/minute",
        quota_active_jobs="1000000",
    )
    svc.start(embedded_workers=1)
    try:
        # Something to find: a completed job the fuzzer's ids may hit.
        job = svc.upload(ROOT.parent / "shared" / "eval" / "ru" / "tinkoff_sample_4.wav")
        svc.wait(job["id"])
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{svc.url}/openapi.json",
            "--header",
            f"Authorization: Bearer {svc.key}",
            "--max-examples",
            str(args.max_examples),
            "--checks",
            "not_a_server_error",
            # These would erase the fuzzer's own account or revoke its key halfway (they have
            # tests of their own).
            "--exclude-path",
            "/api/v1/me/data",
            "--exclude-path",
            "/api/v1/keys/{key_id}",
            "--request-timeout",
            "120",
        ]
        print(
            "$",
            " ".join(c if "Bearer" not in c else "'Authorization: Bearer …'" for c in command[1:]),
            flush=True,
        )
        result = subprocess.run(command)
        logs = svc.read_logs()
        errors = logs.count('" 500 ')  # uvicorn's access log: "GET /x HTTP/1.1" 500 ...
        print(f"server log: {errors} requests answered 500")
        return result.returncode
    finally:
        svc.stop()


if __name__ == "__main__":
    sys.exit(main())
