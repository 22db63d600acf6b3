"""kombu's Redis transport with its one-second tick slowed down. kombu 5.7 calls
`maybe_refresh_binding_expiry` every second from the worker's event loop, which wakes an
idle worker 60 times a minute even though it refreshes at most every 20 minutes (a third of
its one-hour minimum TTL) and sweeps at most every minute. Once a minute keeps both.
Registered as the `kazru-redis` alias in celery_app (a rediss:// URL keeps kombu's own,
which turns TLS on by that name)."""

from __future__ import annotations

from kombu.transport.redis import Transport as _RedisTransport

BINDING_CHECK_S = 60.0


class Transport(_RedisTransport):
    def register_with_event_loop(self, connection, loop):
        super().register_with_event_loop(connection, loop)
        cycle = self.cycle
        tref = getattr(cycle, "_binding_expiry_tref", None)
        if tref is not None:  # absent in other kombu releases: nothing to slow down
            tref.cancel()
            cycle._binding_expiry_tref = loop.call_repeatedly(
                BINDING_CHECK_S, cycle.maybe_refresh_binding_expiry
            )
