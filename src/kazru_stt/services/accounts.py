"""Accounts, API keys and browser sessions.

Passwords are hashed with argon2 (slow on purpose). API keys and session tokens are long
random strings, so a fast SHA-256 of them is safe to store; keys are found by their visible
prefix and compared in constant time.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
import threading
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from kazru_stt.db.models import ApiKey, Role, User, WebSession, utcnow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import (
    AuthError,
    Conflict,
    InvalidOptionError,
    NotFound,
    TooManyRequests,
)
from kazru_stt.services import audit
from kazru_stt.services.context import ServiceContext

KEY_PREFIX = "kz_"
LAST_USED_EVERY_S = 60  # last_used_at is written at most this often (no write per request)
SINGLE_USER_EMAIL = "local@localhost"
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")


class _LimitedHasher:
    """argon2 costs about a second and 64 MiB a try: this many at once in a process,
    whatever the number of addresses trying (each limited on its own by the rate limits);
    a try that cannot start within the wait is refused with 503 and Retry-After."""

    AT_ONCE = 2
    WAIT_S = 10.0

    def __init__(self) -> None:
        self._hasher = PasswordHasher()
        self._slots = threading.BoundedSemaphore(self.AT_ONCE)

    def _run(self, fn, *args):
        if not self._slots.acquire(timeout=self.WAIT_S):
            raise TooManyRequests(
                "too many sign-ins at once; try again shortly",
                code=ErrorCode.SERVER_BUSY,
                retry_after_s=5,
            )
        try:
            return fn(*args)
        finally:
            self._slots.release()

    def hash(self, password: str) -> str:
        return self._run(self._hasher.hash, password)

    def verify(self, hashed: str, password: str) -> bool:
        return self._run(self._hasher.verify, hashed, password)

    def check_needs_rehash(self, hashed: str) -> bool:
        return self._hasher.check_needs_rehash(hashed)


_hasher = _LimitedHasher()
# Verifying against this when the account does not exist keeps the timing the same.
_DUMMY_HASH = _hasher.hash("no such account")


@dataclass(frozen=True)
class Caller:
    """Who is calling, as every service sees it."""

    user_id: int
    email: str
    is_admin: bool = False
    key_id: int | None = None
    session_id: str | None = None
    csrf_token: str | None = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL.match(email):
        raise InvalidOptionError(f"{email!r} is not an email address", code=ErrorCode.INVALID_EMAIL)
    return email


def check_password_strength(password: str) -> None:
    if len(password or "") < 8:
        raise InvalidOptionError(
            "the password needs at least 8 characters", code=ErrorCode.WEAK_PASSWORD
        )
    if len(password) > 1024:
        raise InvalidOptionError("the password is too long", code=ErrorCode.WEAK_PASSWORD)


def _caller(user: User, **extra) -> Caller:
    return Caller(user_id=user.id, email=user.email, is_admin=user.is_admin, **extra)


def user_dict(user: User) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "role": user.role,
        "is_active": user.is_active,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
        "quota_active_jobs": user.quota_active_jobs,
        "quota_monthly_minutes": user.quota_monthly_minutes,
        "locale": user.locale,
        "timezone": user.timezone,
        "remember_voices": user.remember_voices,
    }


# --- users ---


def create_user(
    ctx: ServiceContext,
    email: str,
    password: str | None = None,
    *,
    admin: bool = False,
    actor_id: int | None = None,
    address: str | None = None,
) -> dict:
    """Create an account; the first account of an install is always an admin."""
    email = normalize_email(email)
    if password is not None:
        check_password_strength(password)
    with session_scope(ctx.db_url) as db:
        first = not db.scalar(select(func.count()).select_from(User))
        user = User(
            email=email,
            password_hash=_hasher.hash(password) if password else None,
            role=Role.ADMIN if (admin or first) else Role.USER,
            secret_salt=secrets.token_hex(16),
        )
        db.add(user)
        try:
            db.flush()
        except IntegrityError as exc:
            raise Conflict(
                f"an account for {email} exists already", code=ErrorCode.EMAIL_TAKEN
            ) from exc
        audit.record(
            db,
            "user.create",
            actor_id=actor_id if actor_id is not None else user.id,
            target=f"user:{user.id}",
            address=address,
            details={"role": user.role},
        )
        return user_dict(user)


def register(ctx: ServiceContext, email: str, password: str, *, address: str | None) -> None:
    """Self-registration that does not tell which addresses have accounts: a taken address
    answers as a new one does (the password is hashed either way, so the time is the same too)
    and nobody is signed in; the attempt is audited against the existing account."""
    try:
        create_user(ctx, email, password, address=address)
    except Conflict as exc:
        if exc.code != "email_taken":
            raise
        with session_scope(ctx.db_url) as db:
            user = db.scalar(select(User).where(User.email == normalize_email(email)))
            if user is not None:
                audit.record(
                    db,
                    "user.register_taken",
                    actor_id=None,
                    target=f"user:{user.id}",
                    address=address,
                )


def find_user(ctx: ServiceContext, email: str) -> dict:
    with session_scope(ctx.db_url) as db:
        user = db.scalar(select(User).where(User.email == normalize_email(email)))
        if user is None:
            raise NotFound(f"no account for {email}")
        return user_dict(user)


def get_user(ctx: ServiceContext, user_id: int) -> dict:
    with session_scope(ctx.db_url) as db:
        user = db.get(User, user_id)
        if user is None:
            raise NotFound(f"user {user_id} not found")
        return user_dict(user)


def locale_of(ctx: ServiceContext, user_id: int) -> str | None:
    """The account's interface language, if it chose one (none for single-user mode's
    caller, which has no row)."""
    with session_scope(ctx.db_url) as db:
        user = db.get(User, user_id)
        return user.locale if user else None


def list_users(ctx: ServiceContext, limit: int, offset: int) -> tuple[list[dict], int]:
    with session_scope(ctx.db_url) as db:
        total = db.scalar(select(func.count()).select_from(User)) or 0
        rows = db.scalars(select(User).order_by(User.id).limit(limit).offset(offset)).all()
        return [user_dict(u) for u in rows], total


def update_user(
    ctx: ServiceContext, user_id: int, changes: dict, *, actor: Caller, address: str | None
) -> dict:
    """Admin changes: role, active flag, quotas. The last active admin stays one."""
    with session_scope(ctx.db_url) as db:
        user = db.get(User, user_id)
        if user is None:
            raise NotFound(f"user {user_id} not found")
        for field in ("role", "is_active"):  # null: leave as it is
            if changes.get(field) is not None:
                setattr(user, field, changes[field])
        for field in ("quota_active_jobs", "quota_monthly_minutes"):  # null: the default
            if field in changes:
                setattr(user, field, changes[field])
        if user.role not in Role.ALL:
            raise InvalidOptionError(f"role must be one of {', '.join(Role.ALL)}")
        db.flush()
        ensure_an_admin_remains(db)
        if not user.is_active:  # a disabled account loses its browser sessions at once
            db.query(WebSession).filter(WebSession.user_id == user.id).delete()
        audit.record(
            db,
            "user.update",
            actor_id=actor.user_id,
            target=f"user:{user.id}",
            address=address,
            details={k: changes[k] for k in sorted(changes)},
        )
        return user_dict(user)


def ensure_an_admin_remains(db) -> None:
    admins = db.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.is_active)
    )
    if not admins:
        raise Conflict(
            "the install would be left without an active admin", code=ErrorCode.LAST_ADMIN
        )


def authenticate_password(
    ctx: ServiceContext, email: str, password: str, address: str | None
) -> Caller:
    try:
        email = normalize_email(email)
    except InvalidOptionError:
        email = ""
    with session_scope(ctx.db_url) as db:
        user = db.scalar(select(User).where(User.email == email)) if email else None
        ok = False
        try:
            ok = _hasher.verify(
                user.password_hash if user and user.password_hash else _DUMMY_HASH, password or ""
            )
        except (VerificationError, InvalidHashError):
            ok = False
        if ok and user and user.password_hash and user.is_active:
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            user.last_login_at = utcnow()
            audit.record(db, "login", actor_id=user.id, address=address)
            return _caller(user)
        failed_id = user.id if user else None
    # In a transaction of its own: the error below would roll it back with the one above.
    with session_scope(ctx.db_url) as db:
        audit.record(
            db,
            "login.failed",
            actor_id=failed_id,
            address=address,
            details={"reason": "bad_credentials"},
        )
    raise AuthError("wrong email or password", code=ErrorCode.BAD_CREDENTIALS)


def change_password(
    ctx: ServiceContext, caller: Caller, current: str, new: str, address: str | None
) -> None:
    """The caller's own password, given the current one; every other browser session of
    the account ends (the caller's own stays signed in)."""
    check_password_strength(new)
    with session_scope(ctx.db_url) as db:
        user = db.get_one(User, caller.user_id)
        try:
            ok = bool(user.password_hash) and _hasher.verify(user.password_hash or "", current)
        except (VerificationError, InvalidHashError):
            ok = False
        if ok:
            user.password_hash = _hasher.hash(new)
            others = db.query(WebSession).filter(WebSession.user_id == caller.user_id)
            if caller.session_id:
                others = others.filter(WebSession.id != caller.session_id)
            others.delete()
            audit.record(db, "password.change", actor_id=caller.user_id, address=address)
            return
    with session_scope(ctx.db_url) as db:  # the refusal is audited on its own
        audit.record(
            db,
            "password.change_failed",
            actor_id=caller.user_id,
            address=address,
            details={"reason": "bad_credentials"},
        )
    raise AuthError("the current password is wrong", code=ErrorCode.WRONG_PASSWORD)


def set_password(ctx: ServiceContext, email: str, new: str) -> None:
    """An administrator's reset (`kazru user set-password`): every session of the account
    ends."""
    check_password_strength(new)
    with session_scope(ctx.db_url) as db:
        user = db.scalar(select(User).where(User.email == normalize_email(email)))
        if user is None:
            raise NotFound(f"no account {email}")
        user.password_hash = _hasher.hash(new)
        db.query(WebSession).filter(WebSession.user_id == user.id).delete()
        audit.record(db, "password.set", target=f"user:{user.id}")


def set_locale(ctx: ServiceContext, user_id: int, locale: str) -> None:
    with session_scope(ctx.db_url) as db:
        db.execute(update(User).where(User.id == user_id).values(locale=locale))


def zone_of(ctx: ServiceContext, user_id: int | None) -> str:
    """Where the caller's clocks are: the account's zone, else the install's."""
    if user_id is not None:
        with session_scope(ctx.db_url) as db:
            zone = db.scalar(select(User.timezone).where(User.id == user_id))
        if zone:
            return zone
    return ctx.settings.timezone


def set_timezone(ctx: ServiceContext, user_id: int, zone: str | None, *, only_unset=False) -> None:
    """The account's zone (None: the install's); `only_unset`: the browser's guess at sign-in,
    which never overrides a choice."""
    if zone is not None and zone not in known_zones():
        raise InvalidOptionError(f"{zone!r} is not a time zone (e.g. Asia/Almaty)")
    with session_scope(ctx.db_url) as db:
        stmt = update(User).where(User.id == user_id)
        if only_unset:
            stmt = stmt.where(User.timezone.is_(None))
        db.execute(stmt.values(timezone=zone))


@functools.cache
def known_zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


# --- API keys ---


def create_key(
    ctx: ServiceContext,
    user_id: int,
    name: str = "",
    *,
    address: str | None = None,
    actor_id: int | None = None,
) -> dict:
    """A new key; the only time its full text is ever shown."""
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with session_scope(ctx.db_url) as db:
        user = db.get(User, user_id)
        if user is None or not user.is_active:
            raise NotFound("no such active account")
        row = ApiKey(user_id=user_id, name=(name or "")[:100], prefix=prefix, key_hash=_digest(key))
        db.add(row)
        db.flush()
        audit.record(
            db,
            "key.create",
            actor_id=actor_id or user_id,
            target=f"key:{row.id}",
            address=address,
            details={"prefix": prefix, "name": row.name},
        )
        return {**key_dict(row), "key": key}


def key_dict(row: ApiKey) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "prefix": f"{KEY_PREFIX}{row.prefix}",
        "created_at": row.created_at,
        "last_used_at": row.last_used_at,
        "revoked_at": row.revoked_at,
    }


def list_keys(ctx: ServiceContext, user_id: int) -> list[dict]:
    with session_scope(ctx.db_url) as db:
        rows = db.scalars(select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.id))
        return [key_dict(r) for r in rows]


def revoke_key(ctx: ServiceContext, caller: Caller, key_id: int, address: str | None) -> None:
    with session_scope(ctx.db_url) as db:
        row = db.get(ApiKey, key_id)
        if row is None or (row.user_id != caller.user_id and not caller.is_admin):
            raise NotFound(f"key {key_id} not found")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record(
                db,
                "key.revoke",
                actor_id=caller.user_id,
                target=f"key:{row.id}",
                address=address,
                details={"prefix": row.prefix},
            )


def authenticate_key(ctx: ServiceContext, key: str) -> Caller:
    parts = key.split("_", 2)
    if len(parts) != 3 or f"{parts[0]}_" != KEY_PREFIX or not parts[1]:
        raise AuthError("the API key is not valid")
    digest = _digest(key)
    now = utcnow()
    with session_scope(ctx.db_url) as db:
        rows = db.execute(
            select(ApiKey, User)
            .join(User, User.id == ApiKey.user_id)
            .where(ApiKey.prefix == parts[1][:16])
        ).all()
        for row, user in rows:
            if hmac.compare_digest(row.key_hash, digest):
                if row.revoked_at is not None or not user.is_active:
                    break
                last = row.last_used_at
                if last is None or (now - last).total_seconds() > LAST_USED_EVERY_S:
                    db.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
                return _caller(user, key_id=row.id)
    raise AuthError("the API key is not valid or was revoked")


# --- browser sessions ---


def create_session(ctx: ServiceContext, caller: Caller) -> tuple[str, Caller, datetime]:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    expires = utcnow() + timedelta(hours=ctx.settings.session_hours)
    with session_scope(ctx.db_url) as db:
        db.add(
            WebSession(
                id=_digest(token), user_id=caller.user_id, csrf_token=csrf, expires_at=expires
            )
        )
    return (
        token,
        Caller(
            caller.user_id,
            caller.email,
            caller.is_admin,
            session_id=_digest(token),
            csrf_token=csrf,
        ),
        expires,
    )


def authenticate_session(ctx: ServiceContext, token: str) -> Caller:
    with session_scope(ctx.db_url) as db:
        found = db.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.id == _digest(token))
        ).first()
        if found is None:
            raise AuthError("the session has ended; sign in again", code=ErrorCode.SESSION_EXPIRED)
        sess, user = found
        if sess.expires_at < utcnow() or not user.is_active:
            db.delete(sess)
            raise AuthError("the session has ended; sign in again", code=ErrorCode.SESSION_EXPIRED)
        return _caller(user, session_id=sess.id, csrf_token=sess.csrf_token)


def end_session(ctx: ServiceContext, caller: Caller, address: str | None) -> None:
    with session_scope(ctx.db_url) as db:
        if caller.session_id:
            db.query(WebSession).filter(WebSession.id == caller.session_id).delete()
        audit.record(db, "logout", actor_id=caller.user_id, address=address)


def single_user(ctx: ServiceContext) -> Caller:
    """The one local account of single-user mode (created on first use)."""
    cached = ctx.extra.get("single_user")
    if cached:
        return cached
    with session_scope(ctx.db_url) as db:
        user = db.scalar(select(User).where(User.email == SINGLE_USER_EMAIL))
        if user is None:
            user = User(email=SINGLE_USER_EMAIL, role=Role.ADMIN)
            db.add(user)
            db.flush()
        caller = _caller(user)
    ctx.extra["single_user"] = caller
    return caller
