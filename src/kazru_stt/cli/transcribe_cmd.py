"""`kazru transcribe FILE...`: the pipeline on local files, no server involved."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kazru_stt import allocator
from kazru_stt.cli.output import report
from kazru_stt.config import get_settings
from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import KazruError
from kazru_stt.domain.transcript import Transcript
from kazru_stt.domain.vocabulary import clean_terms
from kazru_stt.exporters import FORMATS, export
from kazru_stt.exporters.paper import SIZES_MM, paper_for_locale
from kazru_stt.pipeline import TranscribeOptions
from kazru_stt.services import engines as registry
from kazru_stt.services.engines import make_transcriber
from kazru_stt.services.job_request import JobRequest


def register(commands) -> None:
    p = commands.add_parser(
        "transcribe",
        help="transcribe audio or video files",
        description="Transcribe files. One format and no -o: the result on stdout; "
        "otherwise OUT/<file stem>.<format> for each file and format.",
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--language", default="auto", help="auto (default), kk, ru, or any Whisper code")
    p.add_argument(
        "--languages",
        default=None,
        help="comma-separated set 'auto' chooses from (default from KAZRU_LANGUAGES: kk,ru)",
    )
    p.add_argument("--engine", default=None, help="recognition engine (local, yandex)")
    p.add_argument("--diarize", action="store_true", help="find who spoke when")
    p.add_argument(
        "--speakers", type=int, default=None, metavar="N", help="exact number of speakers"
    )
    p.add_argument("--min-speakers", type=int, default=None, metavar="N")
    p.add_argument("--max-speakers", type=int, default=None, metavar="N")
    p.add_argument(
        "--format",
        "-f",
        dest="formats",
        action="append",
        choices=list(FORMATS),
        help="output format (repeatable; default txt)",
    )
    p.add_argument("-o", "--output", type=Path, default=None, help="output directory")
    p.add_argument(
        "--model",
        default=None,
        help="a model's name (`kazru model list`) or a CTranslate2 Whisper model directory",
    )
    p.add_argument("--timestamps", action="store_true", help="txt: put times before each line")
    p.add_argument(
        "--paper",
        choices=list(SIZES_MM),
        default=None,
        help="docx and pdf: the paper (default: the locale's, LC_PAPER or LANG; else a4)",
    )
    p.add_argument(
        "--vocabulary",
        type=Path,
        default=None,
        metavar="FILE",
        help="names and terms to spell as written there, one a line (UTF-8)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def _options(args: argparse.Namespace) -> TranscribeOptions:
    return JobRequest(
        language=args.language,
        languages=args.languages,
        engine=args.engine,
        model=args.model,
        diarize=True if args.diarize else None,  # else KAZRU_DIARIZE_BY_DEFAULT
        num_speakers=args.speakers,
        min_speakers=args.min_speakers,
        max_speakers=args.max_speakers,
        terms=tuple(_terms(args.vocabulary)),
    ).options(get_settings())


def _terms(path: Path | None) -> list[str]:
    if path is None:
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise KazruError(
            f"{path.name}: the vocabulary cannot be read ({exc})", code=ErrorCode.INVALID_OPTION
        ) from exc
    return clean_terms(lines)


def _transcriber(args: argparse.Namespace):
    from kazru_stt.services.local_engine import whisper_model

    settings = get_settings()
    spec = registry.usable(args.engine or settings.engine, settings)  # before any file
    if spec.name == EngineName.LOCAL:
        allocator.restart_on(settings.allocator)  # as a worker does, before the model loads
        whisper_model(settings, args.model)  # load (and check) the model before any file
    return make_transcriber(settings, args.model)


def _progress_bar(name: str, quiet: bool):
    if quiet:
        return None, None
    from tqdm import tqdm

    bar = tqdm(
        total=100,
        desc=name[:30],
        unit="%",
        file=sys.stderr,
        leave=False,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}",
    )

    def update(frac: float) -> None:
        bar.n = round(frac * 100)
        bar.refresh()

    return bar, update


def _locale_paper() -> str:
    env = os.environ
    return paper_for_locale(env.get("LC_ALL") or env.get("LC_PAPER") or env.get("LANG"))


def _write(transcript: Transcript, path: Path, formats: list[str], out: Path | None, args) -> None:
    for fmt in formats:
        data = export(
            transcript,
            fmt,
            timestamps=args.timestamps,
            title=path.name,
            timezone=get_settings().timezone,
            paper=args.paper or _locale_paper(),
        )
        if out is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{path.stem}.{fmt}").write_bytes(data)


def run(args: argparse.Namespace) -> int:

    formats = args.formats or ["txt"]
    if args.output is None and len(formats) > 1:
        raise KazruError(
            "several formats need an output directory (-o OUT)", code=ErrorCode.INVALID_OPTION
        )
    options = _options(args)
    transcribe = _transcriber(args)
    failures = 0
    for name in args.files:
        path = Path(name)
        bar, update = _progress_bar(path.name, args.quiet)
        error: KazruError | None = None
        try:
            transcript = transcribe(path, options, update)
        except KazruError as exc:
            error = exc
        finally:
            if bar is not None:
                bar.close()
        if error is not None:
            failures += 1
            report(error)  # one bad file does not stop the others
            continue
        _write(transcript, path, formats, args.output, args)
    return 1 if failures else 0
