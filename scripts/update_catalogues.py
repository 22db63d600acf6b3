"""Re-extract the strings people read (web pages, documents) and merge them into the Kazakh and Russian
catalogues (new strings arrive untranslated; a translator fills them in the .po files).

    .venv/bin/python scripts/update_catalogues.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "kazru_stt"
POT = PACKAGE / "locales" / "messages.pot"
BIN = Path(sys.executable).parent


def main() -> None:
    subprocess.run(
        [
            BIN / "pybabel",
            "extract",
            "-F",
            ROOT / "babel.cfg",
            "-k",
            "_",
            "--no-location",
            "--omit-header",
            "-o",
            POT,
            PACKAGE,
        ],
        check=True,
    )
    for locale in ("kk", "ru"):
        po = PACKAGE / "locales" / locale / "LC_MESSAGES" / "messages.po"
        if po.exists():
            subprocess.run(
                [
                    BIN / "pybabel",
                    "update",
                    "--no-fuzzy-matching",
                    "-i",
                    POT,
                    "-o",
                    po,
                    "-l",
                    locale,
                ],
                check=True,
            )
        else:
            subprocess.run([BIN / "pybabel", "init", "-i", POT, "-o", po, "-l", locale], check=True)


if __name__ == "__main__":
    main()
