"""Our WER and time on built Russian files (benchmarks/long_russian.py: raw faster-whisper,
ours with the language given, ours automatic) under two CTranslate2 releases, side by side,
in one run on this machine. The older release is installed with pip into
build/ct2-<version> (packages only; the model is the bundled one) and put first on the path
of a child process; the other runs with the project's own.

    .venv/bin/python benchmarks/ctranslate2_versions.py [--old 4.4.0] [--minutes 2 10]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from common import ROOT


def ensure(version: str) -> Path:
    target = ROOT / "build" / f"ct2-{version}"
    if not (target / "ctranslate2").is_dir():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--target",
                str(target),
                f"ctranslate2=={version}",
            ],
            check=True,
        )
    return target


def run(minutes: float, extra_path: Path | None) -> tuple[str, dict[str, tuple[float, float]]]:
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = str(extra_path)
    probe = subprocess.run(
        [sys.executable, "-c", "import ctranslate2; print(ctranslate2.__version__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "long_russian.py"), "--minutes", str(minutes)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = {
        m.group(1).strip(): (float(m.group(2)), float(m.group(3)))
        for m in re.finditer(r"^(.{26}) WER ([\d.]+)\s+time\s+([\d.]+) s", out, re.M)
    }
    return probe.stdout.strip(), rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", default="4.4.0")
    ap.add_argument("--minutes", type=float, nargs="+", default=[2.0, 10.0])
    args = ap.parse_args()
    old = ensure(args.old)
    print(f"{'file':>6} {'ctranslate2':>11} {'run':26} {'WER':>6} {'time s':>7}")
    for minutes in args.minutes:
        for path in (old, None):
            version, rows = run(minutes, path)
            for name, (wer, took) in rows.items():
                print(f"{minutes:>4g} m {version:>11} {name:26} {wer:>6.3f} {took:>7.1f}")


if __name__ == "__main__":
    main()
