"""`kazru`: the command-line entry point. Errors become one line on stderr (`cli.output`)
and a non-zero exit."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from kazru_stt import __version__
from kazru_stt.cli import account_cmds, model_cmds, service_cmds, transcribe_cmd
from kazru_stt.cli.output import report
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import KazruError

EXIT_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kazru", description="KazRu-STT Pro: Kazakh and Russian speech to text."
    )
    parser.add_argument("--version", action="version", version=f"kazru {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    transcribe_cmd.register(commands)
    service_cmds.register(commands)
    account_cmds.register(commands)
    model_cmds.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KazruError as exc:
        report(exc)
        return EXIT_USAGE if exc.code == ErrorCode.INVALID_SETTING else EXIT_FAILED
    except ValidationError as exc:  # settings from the environment
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"error: invalid_setting: {problems}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted: stopped by the user", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
