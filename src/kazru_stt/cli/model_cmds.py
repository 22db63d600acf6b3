"""`kazru model list | import | pull | verify`: the local models jobs may name. `verify` assembles,
checks and loads a model once (the container build runs it, so an image never ships a
model that does not load)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

QUANTIZATIONS = ["int8", "int8_float16", "int8_float32", "float16", "float32"]


def register(commands) -> None:
    model = commands.add_parser("model", help="local models: list, import, pull, verify")
    sub = model.add_subparsers(dest="model_command", metavar="COMMAND", required=True)
    sub.add_parser("list", help="the models jobs may name").set_defaults(run=run_list)
    imp = sub.add_parser(
        "import",
        help="convert a Hugging Face Transformers Whisper checkpoint directory to CTranslate2 "
        "and register it",
    )
    imp.add_argument("source", type=Path, metavar="DIR", help="the checkpoint directory")
    imp.add_argument("--name", required=True, help="the name jobs will use")
    imp.add_argument(
        "--quantization",
        default="int8",
        choices=QUANTIZATIONS,
        help="weights type (default int8: fastest on CPU, a quarter of the size)",
    )
    imp.set_defaults(run=run_import)
    pull = sub.add_parser(
        "pull",
        help="download a Whisper checkpoint from the Hugging Face hub (size and license shown "
        "first), convert it and register it",
    )
    pull.add_argument("ref", metavar="HUB_ID[@REVISION]", help="e.g. org/whisper-kk@main")
    pull.add_argument("--name", default=None, help="the name jobs will use (default: the repo's)")
    pull.add_argument(
        "--for",
        dest="for_language",
        default=None,
        metavar="LANG",
        help="also make it the model of this language's passages (e.g. kk)",
    )
    pull.add_argument(
        "--quantization",
        default="int8",
        choices=QUANTIZATIONS,
        help="weights type of a converted checkpoint (default int8)",
    )
    pull.set_defaults(run=run_pull)
    verify = sub.add_parser("verify", help="assemble/check a model and load it once")
    verify.add_argument("--name", default=None, help="a model's name (default: the default)")
    verify.set_defaults(run=run_verify)


def run_list(_args: argparse.Namespace) -> int:
    from kazru_stt.config import get_settings
    from kazru_stt.services.model_registry import available, default_name, facts

    settings = get_settings()
    default = default_name(settings)
    for entry in sorted(available(settings).values(), key=lambda e: e.name):
        mark = " (default)" if entry.name == default else ""
        where = entry.path if entry.path else "bundled"
        record = facts(entry)
        origin = f"\t{record['hub_id']}@{record['commit'][:12]}" if "hub_id" in record else ""
        license_ = f"\tlicense: {record['license']}" if "license" in record else ""
        print(f"{entry.name}\t{entry.source}\t{where}{mark}{origin}{license_}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from kazru_stt.config import get_settings
    from kazru_stt.services.model_registry import import_checkpoint

    started = time.perf_counter()
    entry = import_checkpoint(get_settings(), args.source, args.name, args.quantization)
    print(
        f"model {entry.name} imported ({args.quantization}) to {entry.path} in "
        f"{time.perf_counter() - started:.1f} s; jobs use it with model={entry.name}",
        file=sys.stderr,
    )
    return 0


def run_pull(args: argparse.Namespace) -> int:
    from kazru_stt.config import get_settings
    from kazru_stt.services import model_hub

    started = time.perf_counter()
    entry = model_hub.pull(
        get_settings(),
        args.ref,
        name=args.name,
        quantization=args.quantization,
        for_language=args.for_language,
        told=lambda info: print(model_hub.describe_text(info), file=sys.stderr, flush=True),
    )
    routed = f"; {args.for_language} passages use it" if args.for_language else ""
    print(
        f"model {entry.name} ready at {entry.path} in {time.perf_counter() - started:.1f} s; "
        f"jobs use it with model={entry.name}{routed}",
        file=sys.stderr,
    )
    return 0


def run_verify(args: argparse.Namespace) -> int:
    import numpy as np

    from kazru_stt.config import get_settings
    from kazru_stt.services.local_engine import whisper_model

    settings = get_settings()
    started = time.perf_counter()
    engine = whisper_model(settings, args.name)
    # One second of silence through the real decoder: the weights load and run.
    engine.model.detect_language(np.zeros(16000, dtype=np.float32))
    print(
        f"model {engine.model_name} at {engine.config.model_dir}: verified and loaded in "
        f"{time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0
