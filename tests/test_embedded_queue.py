"""The embedded queue (kombu's SQLAlchemy transport on SQLite) across processes: the API
and a starting worker may both create the queue's row; the one that loses the race uses
the other's row instead of failing the upload with 500 (seen once in the suite:
UNIQUE constraint failed: kombu_queue.name)."""

from __future__ import annotations

import sqlite3

import pytest
from kombu import Connection
from sqlalchemy.exc import IntegrityError

import kazru_stt.tasks.celery_app  # noqa: F401  (registers the kazru-sqla transport)
from kazru_stt.tasks.sqla_transport import Channel


def _race(channel, path, monkeypatch):
    """Another process inserts the row after this channel looked and before it commits."""
    session = channel.session
    real_add = session.add

    def add(obj):
        with sqlite3.connect(path) as other:
            other.execute("INSERT INTO kombu_queue (name) VALUES ('kazru')")
        real_add(obj)

    monkeypatch.setattr(session, "add", add)


def test_a_queue_row_another_process_made_meanwhile_is_used(tmp_path, monkeypatch):
    path = tmp_path / "queue.sqlite"
    with Connection(f"kazru-sqla+sqlite:///{path}") as conn:
        channel = conn.default_channel
        assert isinstance(channel, Channel)
        _race(channel, path, monkeypatch)
        channel._new_queue("kazru")  # no IntegrityError
        monkeypatch.undo()
        queue = conn.SimpleQueue("kazru")
        queue.put({"job": "x"})
        assert queue.get(timeout=5).payload == {"job": "x"}
        queue.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM kombu_queue WHERE name='kazru'").fetchone() == (1,)


def test_kombus_own_channel_fails_that_race(tmp_path, monkeypatch):
    """What the subclass is for (so the test above can fail)."""
    from kombu.transport.sqlalchemy import Channel as KombuChannel

    path = tmp_path / "queue.sqlite"
    with Connection(f"sqla+sqlite:///{path}") as conn:
        channel = conn.default_channel
        assert type(channel) is KombuChannel
        _race(channel, path, monkeypatch)
        with pytest.raises(IntegrityError):
            channel._new_queue("kazru")
