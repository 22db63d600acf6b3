"""The first run of an install: with no account yet, the web page creates the administrator.
Only a person at the server itself may do it (a loopback request that no proxy forwarded),
or one holding the install's setup link, which `kazru serve` prints at start: whoever opens
the page first on a public address must not become its administrator."""

from __future__ import annotations

import hmac
import ipaddress

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from kazru_stt.db.models import InstanceSecret, User
from kazru_stt.db.session import session_scope
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import Conflict
from kazru_stt.services import accounts
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.secrets import instance_secret

SETUP_TOKEN = "setup_token"
_CLAIM = "setup_claimed"  # one row: two first-run forms sent at once make one admin


def needed(ctx: ServiceContext) -> bool:
    if ctx.settings.single_user:
        return False
    with session_scope(ctx.db_url) as db:
        return not db.scalar(select(func.count()).select_from(User))


def setup_token(ctx: ServiceContext) -> str:
    return instance_secret(ctx, SETUP_TOKEN)


def allowed(ctx: ServiceContext, address: str | None, forwarded: bool, token: str | None) -> bool:
    """A request from the server itself that no proxy forwarded, or one with the token."""
    if token and hmac.compare_digest(token.encode(), setup_token(ctx).encode()):
        return True
    try:
        return not forwarded and address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def create_administrator(
    ctx: ServiceContext, email: str, password: str, address: str | None
) -> dict:
    """The install's first account, an admin; Conflict when one exists already."""
    if not needed(ctx):
        raise Conflict("this install has its administrator", code=ErrorCode.CONFLICT)
    try:
        with session_scope(ctx.db_url) as db:
            db.add(InstanceSecret(name=_CLAIM, value="1"))
    except IntegrityError:
        raise Conflict("this install has its administrator", code=ErrorCode.CONFLICT) from None
    try:
        return accounts.create_user(ctx, email, password, admin=True, address=address)
    except BaseException:
        with session_scope(ctx.db_url) as db:  # a refused password: the form may be sent again
            db.execute(delete(InstanceSecret).where(InstanceSecret.name == _CLAIM))
        raise
