"""Requests per minute per API key (or browser session) and per client address, with the
`limits` library: counters in memory by default, in Redis when `KAZRU_RATE_LIMIT_STORAGE`
names one, so every API replica counts against the same limit. Over a limit: 429 with
`Retry-After` and the error JSON, before any database work. While the counters' store is
unreachable, requests pass uncounted (logged): a limiter must not take the API down with it."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
import weakref
from collections.abc import Callable
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from starlette.types import ASGIApp, Receive, Scope, Send

from kazru_stt.api.deps import SESSION_COOKIE
from kazru_stt.api.guard import UPLOAD_ROUTES, client_address_of, send_error
from kazru_stt.api.paths import SHARED_URL
from kazru_stt.config import Settings
from kazru_stt.domain.error_codes import ErrorCode

log = logging.getLogger(__name__)
# A store that failed is not asked again for this long: requests pass without a wait on
# every one of them (a refused connection is quick, an unreachable host is not).
STORE_RETRY_S = 5.0
STORE_TIMEOUT_S = 1.0

LIMITED_PREFIXES = ("/api/", "/v1/", "/app", "/login", "/register", SHARED_URL)
LOGIN_PATHS = {"/api/v1/auth/login", "/api/v1/auth/register", "/login", "/register"}


def _async_storage_url(url: str) -> tuple[str, dict]:
    if url.startswith(("redis://", "rediss://")):
        return "async+" + url, {
            "implementation": "redispy",
            "socket_timeout": STORE_TIMEOUT_S,
            "socket_connect_timeout": STORE_TIMEOUT_S,
        }
    if url.startswith("memory://"):
        return "async+memory://", {}
    return url, {}


def identity_of(headers: dict[bytes, bytes]) -> str | None:
    """Who the request claims to be (not yet verified: a hash of the credential)."""
    auth = headers.get(b"authorization", b"")
    if auth[:7].lower() == b"bearer ":
        return "k:" + hashlib.sha256(auth[7:].strip()).hexdigest()[:24]
    for part in headers.get(b"cookie", b"").split(b";"):
        name, _, value = part.strip().partition(b"=")
        if name == SESSION_COOKIE.encode() and value:
            return "s:" + hashlib.sha256(value).hexdigest()[:24]
    return None


@lru_cache(maxsize=64)
def _item(limit: str) -> RateLimitItem:
    return parse(limit)


class RateLimit:
    """`current()`: the settings in effect now (an administrator may change the limits while
    the service runs; the counters' store is the one of the start)."""

    def __init__(
        self, app: ASGIApp, settings: Settings, current: Callable[[], Settings] | None = None
    ):
        self.app = app
        self.settings = settings
        self.current = current or (lambda: settings)
        self._limiters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._store_down_until = 0.0

    def _limiter(self) -> SlidingWindowCounterRateLimiter:
        """One per event loop: async storages bind their locks and connections to the loop
        that made them (a server has one loop; tests may run several)."""
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            url, options = _async_storage_url(self.settings.rate_limit_storage)
            storage = storage_from_string(url, key_prefix="kazru-rl", **options)
            limiter = self._limiters[loop] = SlidingWindowCounterRateLimiter(storage)
        return limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(LIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        address = client_address_of(scope) or "unknown"
        limits = self.current()
        checks = [(_item(limits.rate_limit_per_address), "a", address)]
        identity = identity_of(headers)
        if identity:
            checks.append((_item(limits.rate_limit_per_key), "i", identity))
        if (scope["method"], path) in UPLOAD_ROUTES:
            checks.append((_item(limits.rate_limit_uploads), "u", identity or checks[0][2]))
        if path in LOGIN_PATHS and scope["method"] == "POST":
            checks.append((_item(limits.rate_limit_login), "l", checks[0][2]))
        refusal = await self._over_limit(checks)
        if refusal is not None:
            item, retry = refusal
            await send_error(
                send,
                429,
                ErrorCode.RATE_LIMITED,
                f"too many requests (limit {item}); retry in {retry} s",
                [(b"retry-after", str(retry).encode())],
                {"retry_after_s": retry},
            )
            return
        await self.app(scope, receive, send)

    async def _over_limit(self, checks) -> tuple[object, int] | None:
        """The first limit the request is over and the seconds until it may retry, or None
        (also when the counters' store cannot be reached)."""
        if time.monotonic() < self._store_down_until:
            return None
        limiter = self._limiter()
        try:
            for item, kind, who in checks:
                if not await limiter.hit(item, kind, who):
                    stats = await limiter.get_window_stats(item, kind, who)
                    return item, max(1, math.ceil(stats.reset_time - time.time()))
        except Exception as exc:
            self._store_down_until = time.monotonic() + STORE_RETRY_S
            log.warning("rate limits not counted for %.0f s: %s", STORE_RETRY_S, exc)
        return None
