"""`kazru user create|list`, `kazru key create|revoke`, `kazru retention run`."""

from __future__ import annotations

import argparse
import sys


def register(commands) -> None:
    user = commands.add_parser("user", help="accounts")
    users = user.add_subparsers(dest="user_command", metavar="COMMAND", required=True)
    create = users.add_parser("create", help="create an account (the first one is an admin)")
    create.add_argument("email")
    create.add_argument("--admin", action="store_true", help="give the account the admin role")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(run=run_user_create)
    listing = users.add_parser("list", help="list accounts")
    listing.set_defaults(run=run_user_list)
    reset = users.add_parser(
        "set-password", help="set an account's password (its browser sessions end)"
    )
    reset.add_argument("email")
    reset.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from standard input (never from the command line)",
    )
    reset.set_defaults(run=run_user_set_password)

    key = commands.add_parser("key", help="API keys")
    keys = key.add_subparsers(dest="key_command", metavar="COMMAND", required=True)
    kc = keys.add_parser("create", help="create an API key for an account; prints only the key")
    kc.add_argument("email")
    kc.add_argument("--name", default="", help="what the key is for")
    kc.set_defaults(run=run_key_create)

    retention = commands.add_parser("retention", help="retention of recordings and transcripts")
    rs = retention.add_subparsers(dest="retention_command", metavar="COMMAND", required=True)
    run = rs.add_parser("run", help="delete what is past its retention period now")
    run.set_defaults(run=run_retention)


def _context():
    from kazru_stt.config import get_settings
    from kazru_stt.db.migrate import upgrade
    from kazru_stt.services.context import ServiceContext

    settings = get_settings()
    upgrade(settings.resolved_database_url)  # a fresh install works without `db upgrade`
    return ServiceContext(base_settings=settings)


def run_user_create(args: argparse.Namespace) -> int:
    from kazru_stt.services import accounts

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    user = accounts.create_user(_context(), args.email, password, admin=args.admin)
    print(f"created {user['email']} (id {user['id']}, {user['role']})", file=sys.stderr)
    return 0


def run_user_set_password(args: argparse.Namespace) -> int:
    from kazru_stt.services import accounts

    accounts.set_password(_context(), args.email, sys.stdin.readline().rstrip("\r\n"))
    print(f"password set for {args.email}; its sessions have ended", file=sys.stderr)
    return 0


def run_user_list(_args: argparse.Namespace) -> int:
    from kazru_stt.services import accounts

    users, _total = accounts.list_users(_context(), 10_000, 0)
    for u in users:
        state = "active" if u["is_active"] else "disabled"
        print(f"{u['id']}\t{u['email']}\t{u['role']}\t{state}")
    return 0


def run_key_create(args: argparse.Namespace) -> int:
    from kazru_stt.services import accounts

    ctx = _context()
    user = accounts.find_user(ctx, args.email)
    print(accounts.create_key(ctx, user["id"], args.name)["key"])
    return 0


def run_retention(_args: argparse.Namespace) -> int:
    from kazru_stt.services.retention import run_retention as run

    result = run(_context())
    print(
        f"{result['audio_deleted']} recordings and {result['transcripts_expired']} transcripts "
        "deleted",
        file=sys.stderr,
    )
    return 0
