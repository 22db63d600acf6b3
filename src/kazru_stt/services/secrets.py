"""Secrets of the install: given in settings, or generated once and stored in the database
so that every API replica and worker signs with the same key."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kazru_stt.db.models import InstanceSecret, User
from kazru_stt.db.session import session_scope
from kazru_stt.services.context import ServiceContext

WEBHOOK_ROOT = "webhook_root"


def instance_secret(ctx: ServiceContext, name: str) -> str:
    cache = ctx.extra.setdefault("secrets", {})
    if name in cache:
        return cache[name]
    with session_scope(ctx.db_url) as db:
        row = db.get(InstanceSecret, name)
        value = row.value if row else None
    if value is None:
        try:
            with session_scope(ctx.db_url) as db:
                db.add(InstanceSecret(name=name, value=secrets.token_urlsafe(32)))
        except IntegrityError:
            pass  # another process stored one first: use theirs
        with session_scope(ctx.db_url) as db:
            value = db.get_one(InstanceSecret, name).value
    cache[name] = value
    return value


def webhook_secret(ctx: ServiceContext, user_id: int | None) -> str:
    """Each account signs with a secret of its own, derived from the install's root, so one
    user cannot forge deliveries to another's receiver."""
    root = ctx.settings.webhook_secret or instance_secret(ctx, WEBHOOK_ROOT)
    salt = None
    if user_id is not None:
        with session_scope(ctx.db_url) as db:
            salt = db.scalar(select(User.secret_salt).where(User.id == user_id))
    label = f"webhook:{user_id}:{salt}" if salt else f"webhook:{user_id}"
    return hmac.new(root.encode(), label.encode(), hashlib.sha256).hexdigest()
