"""`kazru serve`, `kazru worker`, `kazru db upgrade`."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from kazru_stt.child_process import die_with_parent
from kazru_stt.domain.errors import InvalidSetting
from kazru_stt.job_metrics import MULTIPROC_ENV

log = logging.getLogger("kazru.serve")


def register(commands) -> None:
    p = commands.add_parser("serve", help="run the API with embedded workers and the sweep")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="embedded worker processes (0: none)")
    p.set_defaults(run=run_serve)

    w = commands.add_parser("worker", help="run one transcription worker")
    w.add_argument("--loglevel", default=None, help="default: KAZRU_LOG_LEVEL")
    w.add_argument(
        "--stages",
        choices=["asr", "diarization", "all"],
        default="all",
        help="which stages this worker runs (asr or diarization: with KAZRU_STAGES_APART)",
    )
    w.set_defaults(run=run_worker)

    sch = commands.add_parser(
        "scheduler", help="run retention, the recovery sweep and webhook delivery (no model)"
    )
    sch.add_argument("--once", action="store_true", help="one pass, then exit (for a cron job)")
    sch.set_defaults(run=run_scheduler)

    e = commands.add_parser("yandex-emulator", help="run a local emulator of Yandex SpeechKit v3")
    e.add_argument("--host", default="127.0.0.1")
    e.add_argument("--port", type=int, default=8090)
    e.add_argument("--api-key", default="test-key", help="the Api-Key it accepts")
    e.add_argument(
        "--fault-rate", type=float, default=0.0, help="share of requests answered 429/500/503"
    )
    e.add_argument("--slow", type=float, default=0.0, help="seconds added to every answer")
    e.add_argument("--lose-operations", action="store_true", help="operations answer 404")
    e.add_argument("--malformed", action="store_true", help="results are broken JSON")
    e.add_argument("--auth-fail", action="store_true", help="every request answered 401")
    e.set_defaults(run=run_emulator)

    db = commands.add_parser("db", help="database commands")
    sub = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    up = sub.add_parser("upgrade", help="apply database migrations")
    up.set_defaults(run=run_db_upgrade)

    mv = commands.add_parser(
        "migrate",
        help="copy this install (SQLite, local files) into PostgreSQL and S3",
        description="Copy every table with its ids into --to, and the recordings into "
        "--storage (else they stay where they are); run again after an interruption to copy "
        "what is missing. Stop the service first. The source is left as it is.",
    )
    mv.add_argument("--to", required=True, metavar="DATABASE_URL", help="postgresql://…")
    mv.add_argument("--storage", default=None, metavar="STORAGE_URL", help="s3://bucket/prefix")
    mv.add_argument("--dry-run", action="store_true", help="count what would move; write nothing")
    mv.set_defaults(run=run_migrate)

    cfg = commands.add_parser("config", help="configuration commands")
    sub = cfg.add_subparsers(dest="config_command", metavar="COMMAND", required=True)
    docs = sub.add_parser("docs", help="print docs/configuration.md (every setting)")
    docs.set_defaults(run=run_config_docs)
    check = sub.add_parser("check", help="read the settings from the environment and check them")
    check.set_defaults(run=run_config_check)
    get = sub.add_parser(
        "get", help="the settings that can change while the service runs: value and source"
    )
    get.add_argument("name", nargs="?", help="one setting (lower case, as `languages`)")
    get.set_defaults(run=run_config_get)
    put = sub.add_parser(
        "set",
        help="change a setting for every API replica and worker, within seconds",
        description="The value as the environment would spell it (kk,ru; true; 600/minute). "
        "Where the environment sets the same setting, it still wins.",
    )
    put.add_argument("name")
    put.add_argument("value", nargs="?", default=None)
    put.add_argument(
        "--default", action="store_true", help="remove the stored value (back to the default)"
    )
    put.set_defaults(run=run_config_set)
    hist = sub.add_parser("history", help="every change of those settings, newest first")
    hist.add_argument("name", nargs="?")
    hist.add_argument("--limit", type=int, default=50)
    hist.set_defaults(run=run_config_history)


def run_config_docs(_args: argparse.Namespace) -> int:
    from kazru_stt.config_docs import render

    sys.stdout.write(render())
    return 0


def run_config_check(_args: argparse.Namespace) -> int:
    from kazru_stt.config import Settings
    from kazru_stt.services import settings_check

    settings = Settings()  # invalid settings raise and are reported by main
    settings_check.check(settings)
    mode = "shared (several machines)" if settings.is_shared else "embedded (one machine)"
    print(f"settings are valid; topology: {mode}", file=sys.stderr)
    return 0


def _migrated_settings():
    from kazru_stt.config import get_settings
    from kazru_stt.db.migrate import upgrade

    settings = get_settings()
    upgrade(settings.resolved_database_url)  # a fresh install works without `db upgrade`
    return settings


def _print_state(state) -> None:
    print(f"{state.name} = {state.value}  ({state.source})")
    if state.source == "environment" and state.stored is not None:
        print(f"  stored {state.stored}, but KAZRU_{state.name.upper()} in the environment wins")
    elif state.ignored:
        print(f"  stored {state.stored}, ignored: it is not a valid value (set it again)")


def run_config_get(args: argparse.Namespace) -> int:
    from kazru_stt.services import runtime_settings

    settings = _migrated_settings()
    if args.name:
        runtime_settings.check_name(args.name)  # an unknown name: the list of those that can
    states = runtime_settings.states(settings, settings.resolved_database_url)
    if args.name:
        states = [s for s in states if s.name == args.name]
    for state in states:
        _print_state(state)
    return 0


def run_config_set(args: argparse.Namespace) -> int:
    from kazru_stt.services import runtime_settings

    if args.default == (args.value is not None):
        print("error: invalid_option: give a VALUE, or --default", file=sys.stderr)
        return 2
    settings = _migrated_settings()
    state = runtime_settings.change(
        settings, settings.resolved_database_url, args.name, args.value, actor_id=None
    )
    _print_state(state)
    return 0


def run_config_history(args: argparse.Namespace) -> int:
    from kazru_stt.services import runtime_settings

    settings = _migrated_settings()
    for change in runtime_settings.history(settings.resolved_database_url, args.name, args.limit):
        who = f"user {change.actor_id}" if change.actor_id else "command line"
        print(
            f"{change.at:%Y-%m-%d %H:%M:%S} UTC  {change.name}: {change.old or '(default)'} -> "
            f"{change.new or '(default)'}  by {who}"
        )
    return 0


def run_db_upgrade(_args: argparse.Namespace) -> int:
    from kazru_stt.config import get_settings
    from kazru_stt.db.migrate import upgrade

    url = get_settings().resolved_database_url
    upgrade(url)
    print(f"database is up to date ({url.split('@')[-1]})", file=sys.stderr)
    return 0


def run_migrate(args: argparse.Namespace) -> int:
    from kazru_stt.config import get_settings
    from kazru_stt.services.install_move import move_install

    def say(line: str) -> None:
        print(line, file=sys.stderr)

    report = move_install(get_settings(), args.to, args.storage, dry_run=args.dry_run, say=say)
    print(f"{'table':<20} {'source':>9} {'target':>9} {'copied':>9}")
    for t in report.tables:
        print(f"{t.name:<20} {t.source:>9} {t.target:>9} {t.copied:>9}")
    files = report.files
    if files.stay:
        print("recordings: not moved (no --storage); the new install must read the same files")
    else:
        print(
            f"recordings: {files.source} named, {files.present} already there and checked, "
            f"{files.copied} copied and checked"
        )
        for key in files.missing:
            print(f"  missing in the source: {key}")
        for key in files.mismatched:
            print(f"  different bytes in the target: {key}")
    if report.dry_run:
        print("dry run: nothing was written")
        return 0
    if not report.complete:
        print("incomplete: run the command again (it copies only what is missing)")
        return 1
    from sqlalchemy.engine import make_url

    where = f"KAZRU_DATABASE_URL={make_url(args.to).render_as_string(hide_password=True)}"
    if args.storage:
        where += f" KAZRU_STORAGE_URL={args.storage}"
    print(f"complete: start the service with {where}")
    return 0


def run_emulator(args: argparse.Namespace) -> int:
    from kazru_stt.emulators.yandex import Faults, serve

    faults = Faults(
        rate=args.fault_rate,
        slow_s=args.slow,
        lose_operations=args.lose_operations,
        malformed=args.malformed,
        auth_fail=args.auth_fail,
    )
    serve(args.host, args.port, args.api_key, faults)
    return 0


def run_worker(args: argparse.Namespace) -> int:
    import socket

    from kazru_stt import allocator, job_metrics, log_setup
    from kazru_stt.config import get_settings
    from kazru_stt.services import settings_check

    settings = get_settings()
    settings_check.check(settings)
    if args.stages != "all" and not settings.stages_apart:
        raise InvalidSetting(
            f"--stages {args.stages} needs KAZRU_STAGES_APART=true (without it a job is one task)"
        )
    allocator.restart_on(settings.allocator)  # returns when no restart is due
    level = (args.loglevel or settings.log_level).upper()
    log_setup.configure(level, settings.log_format, "worker")
    job_metrics.serve_alone(settings.metrics_port)

    from kazru_stt.tasks import runtime
    from kazru_stt.tasks.celery_app import app, queues_of

    runtime.worker_stages = args.stages
    app.worker_main(
        [
            "--quiet",  # no banner: every line on stderr is a log record
            "worker",
            "--pool=solo",  # one job at a time, the model stays loaded in this process
            f"--loglevel={level}",
            "-Q",
            ",".join(queues_of(args.stages, settings.stages_apart)),
            "-n",
            f"kazru-{os.getpid()}@{socket.gethostname()}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",  # an event every 2 s that nothing here reads
        ]
    )
    return 0


def run_scheduler(args: argparse.Namespace) -> int:
    import asyncio

    from kazru_stt import log_setup
    from kazru_stt.config import get_settings
    from kazru_stt.services import settings_check

    settings = get_settings()
    settings_check.check(settings)
    log_setup.configure(settings.log_level, settings.log_format, "scheduler")
    from kazru_stt.services import webhooks
    from kazru_stt.tasks.periodic import run_periodic
    from kazru_stt.tasks.runtime import service_context

    stop = threading.Event()
    if args.once:
        stop.set()  # the loop runs its first pass and returns
        run_periodic(stop)
        asyncio.run(webhooks.dispatch_once(service_context()))
        return 0
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    dispatcher = webhooks.Dispatcher(service_context()).start()
    log.info("scheduler started")
    try:
        run_periodic(stop)
    finally:
        dispatcher.stop()
    log.info("scheduler stopped")
    return 0


class WorkerPool:
    """Embedded worker processes, restarted if one dies (a crash must not stop the service),
    and all stopped when the service stops."""

    def __init__(self, count: int, metrics_dir: Path | None = None):
        self.count = count
        self.metrics_dir = metrics_dir
        self.procs: list[subprocess.Popen] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()  # no respawn can slip in while stopping

    def _spawn(self) -> subprocess.Popen:
        cmd = [sys.executable, "-m", "kazru_stt.cli.main", "worker"]
        env = os.environ.copy()
        if self.metrics_dir is not None:  # the API's /metrics adds up the workers' files
            env[MULTIPROC_ENV] = str(self.metrics_dir)
        return subprocess.Popen(cmd, env=env, preexec_fn=die_with_parent)

    def start(self) -> None:
        with self._lock:
            self.procs = [self._spawn() for _ in range(self.count)]
        threading.Thread(target=self._watch, daemon=True, name="worker-watch").start()

    def _watch(self) -> None:
        while not self._stop.wait(2.0):
            with self._lock:
                if self._stop.is_set():
                    return
                for i, proc in enumerate(self.procs):
                    if proc.poll() is not None:
                        log.warning(
                            "worker %s exited (%s); starting a new one", proc.pid, proc.returncode
                        )
                        self.procs[i] = self._spawn()

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM (Celery's warm shutdown), then SIGKILL after `grace_s`: a job cut short
        is re-queued by the sweep, so waiting out a long transcription is not needed."""
        with self._lock:
            self._stop.set()
            procs = list(self.procs)
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def _announce(settings, host: str, port: int) -> None:
    from kazru_stt.domain.languages import KAZAKH
    from kazru_stt.services import first_run, model_registry
    from kazru_stt.services.context import ServiceContext

    if settings.model_path is None and KAZAKH not in model_registry.language_models(settings):
        log.warning(
            "Kazakh passages are written by the bundled base model, whose Kazakh is often "
            "wrong: with a network, `kazru model pull HUB_ID --for kk` fetches a Kazakh model "
            "(docs/models.md lists them); or enable Yandex SpeechKit"
        )

    if settings.single_user:
        log.warning(
            "SINGLE-USER MODE (KAZRU_SINGLE_USER=true): no sign-in, every request acts as the "
            "local admin; served to this machine only"
        )
        return
    ctx = ServiceContext(base_settings=settings)
    if first_run.needed(ctx):
        shown = host if _is_loopback(host) else "THIS-SERVER"
        log.warning(
            "no accounts yet: open http://127.0.0.1:%d/setup on this machine to create the "
            "administrator, or from elsewhere http://%s:%d/setup?token=%s (or `kazru user "
            "create EMAIL --password-stdin`; the first account is an admin)",
            port,
            "[::1]" if shown == "::1" else shown,
            port,
            first_run.setup_token(ctx),
        )


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from kazru_stt import log_setup
    from kazru_stt.config import get_settings
    from kazru_stt.db.migrate import upgrade
    from kazru_stt.domain.errors import InvalidOptionError
    from kazru_stt.engines.whisper import resolve_model
    from kazru_stt.services import settings_check

    settings = get_settings()
    settings_check.check(settings)
    log_setup.configure(settings.log_level, settings.log_format, "api")
    if settings.single_user and not _is_loopback(args.host):
        raise InvalidOptionError(
            "single-user mode has no sign-in; it serves only 127.0.0.1 (unset "
            "KAZRU_SINGLE_USER and create accounts to serve a network)"
        )

    def stop_now(signum, _frame):  # before uvicorn takes over the signals
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop_now)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    # Assemble the bundled model once here, before workers race to do it.
    resolve_model(settings.model_path, settings.resolved_model_cache_dir)
    _announce(settings, args.host, args.port)
    metrics_dir = settings.data_dir / "metrics"  # this serve's workers only: start empty
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    pool = WorkerPool(args.workers, metrics_dir)
    try:
        pool.start()
        config = uvicorn.Config(
            "kazru_stt.asgi:create_default_app",
            factory=True,
            host=args.host,
            port=args.port,
            log_config=None,  # our handlers (log_setup), JSON by default
            access_log=False,  # api.request_context writes one line per request
            timeout_graceful_shutdown=5,  # open streams and waits end; never hang on stop
            # The client address and scheme from X-Forwarded-* of these proxies only.
            proxy_headers=bool(settings.trusted_proxy_list),
            forwarded_allow_ips=settings.trusted_proxy_list or None,
        )
        uvicorn.Server(config).run()
    finally:
        # One stop at a time (not SIG_IGN: a worker started now would inherit it).
        signal.signal(signal.SIGTERM, lambda *_: None)
        pool.stop()
    return 0
