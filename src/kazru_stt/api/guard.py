"""The API's outer wall, as plain ASGI (no per-request task or buffering):

- sheds load with 503 `server_busy` beyond a number of requests in flight, instead of
  queueing without end (health checks always pass);
- answers only for the configured Host names (DNS rebinding);
- bounds request bodies: Content-Length is checked first, then the bytes are counted as
  they arrive, and the 413 goes out at once, before the rest of the body is read;
- adds security headers to every response.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kazru_stt.api.errors import error_body
from kazru_stt.api.paths import DOCS_ASSETS_URL, SHARED_URL, STATIC_URL
from kazru_stt.config import Settings
from kazru_stt.domain.error_codes import ErrorCode

OPEN_PATHS = ("/healthz", "/readyz")  # probes come with any Host, even under load
SYNC_WAIT_PATHS = {"/v1/audio/transcriptions"}
UPLOAD_ROUTES = {("POST", "/api/v1/transcriptions"), ("POST", "/v1/audio/transcriptions")}
MULTIPART_OVERHEAD = 1024 * 1024
LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"]

# An API response is never a page: no forms, no scripts, no origin (sandbox) if shown.
API_CSP = "default-src 'none'; frame-ancestors 'none'; form-action 'none'; sandbox"
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)


def client_address_of(scope: Scope) -> str | None:
    """The client's address. Behind KAZRU_TRUSTED_PROXIES the server has already put the
    rightmost untrusted X-Forwarded-For hop here (uvicorn's proxy headers, given only those
    proxies); the leftmost values, which the client writes, are never read."""
    client = scope.get("client")
    return client[0] if client else None


def host_allowed(host: str, allowed: list[str]) -> bool:
    if "*" in allowed:
        return True
    name = host.lower()
    if not name.startswith("["):
        name = name.rsplit(":", 1)[0]
    else:
        name = name.split("]", 1)[0] + "]"
    for pattern in allowed:
        pattern = pattern.lower()
        if name == pattern or (pattern.startswith("*.") and name.endswith(pattern[1:])):
            return True
    return False


# Files the same for everyone (the page's scripts and styles, the API docs' assets): the
# browser may keep them; every other answer is `no-store` unless it says otherwise.
CACHEABLE_PREFIXES = (f"{STATIC_URL}/", f"{DOCS_ASSETS_URL}/")


def security_headers(path: str, https: bool) -> list[tuple[bytes, bytes]]:
    api = path.startswith(("/api/", "/v1/", "/metrics", "/openapi.json"))
    # no-referrer would make form posts say Origin: null; a shared transcript (its token is
    # in its address) has no forms, and must not hand its address to any other page.
    referrer = b"no-referrer" if path.startswith(SHARED_URL) else b"same-origin"
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", referrer),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"cross-origin-resource-policy", b"same-origin"),
        (b"content-security-policy", (API_CSP if api else PAGE_CSP).encode()),
    ]
    if https:
        headers.append((b"strict-transport-security", b"max-age=31536000"))
    return headers


class RequestGuard:
    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.settings = settings
        self.inflight = 0
        allowed = settings.allowed_host_list or ["*"]
        if settings.single_user and "*" in allowed:
            allowed = LOOPBACK_HOSTS  # no accounts: only pages of this machine may call us
        self.allowed_hosts = allowed
        self.upload_limit = settings.max_upload_mb * 1024 * 1024 + MULTIPART_OVERHEAD
        self.body_limit = settings.max_json_kb * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        headers = dict(scope.get("headers") or [])
        is_probe = path in OPEN_PATHS
        # Event streams and synchronous waits hold no thread while open and have caps of
        # their own: they do not count as work in flight.
        counted = not (is_probe or path.endswith("/events") or path in SYNC_WAIT_PATHS)
        if not is_probe:
            host = headers.get(b"host", b"").decode("latin-1")
            if not host_allowed(host, self.allowed_hosts):
                await send_error(send, 400, ErrorCode.INVALID_HOST, "this Host is not served here")
                return
            if counted and self.inflight >= self.settings.max_inflight_requests:
                await send_error(
                    send,
                    503,
                    ErrorCode.SERVER_BUSY,
                    "the server is busy; retry shortly",
                    [(b"retry-after", b"2")],
                )
                return
        limit = self.upload_limit if (scope["method"], path) in UPLOAD_ROUTES else self.body_limit
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = True
            if too_big:
                await send_error(send, 413, ErrorCode.PAYLOAD_TOO_LARGE, _too_large_message(limit))
                return

        extra = security_headers(path, scope.get("scheme") == "https")
        cacheable = path.startswith(CACHEABLE_PREFIXES)
        started = rejected = False
        received = 0

        async def counted_receive() -> Message:
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Answer now, while the client is still sending; the app sees a
                    # disconnect and whatever it sends afterwards is dropped.
                    rejected = True
                    if not started:
                        await send_error(
                            send, 413, ErrorCode.PAYLOAD_TOO_LARGE, _too_large_message(limit)
                        )
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return
            if message["type"] == "http.response.start":
                started = True
                headers = [*message.get("headers", []), *extra]
                said = any(k.lower() == b"cache-control" for k, _ in headers)
                if not cacheable and not said:
                    # Signed-in pages and API answers are nobody's to keep: on a shared
                    # office computer, Back after signing out must not show a transcript.
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        if counted:
            self.inflight += 1
        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not rejected:
                raise
        finally:
            if counted:
                self.inflight -= 1


def _too_large_message(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"the request body is larger than {limit // (1024 * 1024)} MB"
    return f"the request body is larger than {limit // 1024} KB"


async def send_error(
    send: Send, status: int, code: ErrorCode, message: str, extra=(), details=None
) -> None:
    """The error JSON of `api.errors`, sent from below FastAPI (no app was reached)."""
    body = json.dumps(error_body(code, message, details)).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    if status == 413:  # the rest of the body was never read: this connection is done
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
