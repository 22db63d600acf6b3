"""The Redis queue's transport (kazru_stt/tasks/redis_transport.py) on the machine's real
Redis: an idle worker's event loop has nothing that wakes it every second."""

from __future__ import annotations

import pytest
from kombu import Connection
from kombu.asynchronous import Hub

from kazru_stt.tasks.celery_app import TRANSPORT_ALIASES  # registers the kazru-redis alias
from tests.service_harness import REDIS_URL, need_servers


def _repeating_timers(url: str, options: dict) -> list[float]:
    """The periods of the timers a transport leaves running in a worker's event loop."""
    hub = Hub()
    made = []
    schedule = hub.call_repeatedly

    def record(delay, callback, *args):
        tref = schedule(delay, callback, *args)
        made.append((delay, tref))
        return tref

    hub.call_repeatedly = record
    with Connection(url, transport_options=options) as conn:
        conn.connect()
        conn.default_channel  # noqa: B018  (a channel, as a consumer has)
        conn.transport.register_with_event_loop(conn.connection, hub)
        periods = sorted(delay for delay, tref in made if not tref.canceled)
    hub.close()
    return periods


def test_an_idle_redis_consumer_has_no_timer_that_fires_every_second():
    need_servers(redis=True)
    assert "kazru-redis" in TRANSPORT_ALIASES
    ours = _repeating_timers(f"kazru-{REDIS_URL}/15", {"polling_interval": 10})
    stock = _repeating_timers(f"{REDIS_URL}/15", {"polling_interval": 10})
    assert min(stock) == 1  # kombu's own: its binding check, every second
    assert min(ours) >= 10
    assert len(ours) == len(stock)  # the same checks, only less often


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("redis://127.0.0.1:6379/3", "kazru-redis://127.0.0.1:6379/3"),
        # kombu turns TLS on by the name rediss: the URL is kept, and its transport with it.
        ("rediss://cache.example:6380/0", "rediss://cache.example:6380/0"),
    ],
)
def test_a_redis_broker_url_gets_the_quieter_transport_unless_it_is_tls(monkeypatch, given, used):
    from kazru_stt.config import get_settings
    from kazru_stt.tasks import celery_app

    monkeypatch.setenv("KAZRU_BROKER_URL", given)
    monkeypatch.setenv("KAZRU_DATABASE_URL", "postgresql+psycopg://kazru@db.example/kazru")
    get_settings.cache_clear()
    try:
        assert celery_app.broker_url() == used
        conf = celery_app.make_app().conf
        assert conf.broker_transport_options["polling_interval"] == 10
    finally:
        get_settings.cache_clear()
        celery_app.app.set_current()  # a new Celery app makes itself the current one
