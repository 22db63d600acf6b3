"""The outermost ASGI layer: gives each request its id (from `X-Request-ID` when plain,
else new), returns it in the response, and writes one access log line per request with the
route template (never the raw path or query: they may carry tokens)."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kazru_stt import request_ids

log = logging.getLogger("kazru.access")
_QUIET = frozenset({"/healthz", "/readyz", "/metrics"})  # probes every few seconds


class RequestContext:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(request_ids.HEADER.encode())
        request_id = request_ids.accept(incoming.decode("latin-1") if incoming else None)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        with request_ids.bound(request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                path = scope.get("path", "")
                if path not in _QUIET:
                    route = getattr(scope.get("route"), "path", "unmatched")
                    log.info(
                        "%s %s %s",
                        scope.get("method"),
                        route,
                        status,
                        extra={
                            "method": scope.get("method"),
                            "route": route,
                            "status": status,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        },
                    )
