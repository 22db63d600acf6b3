"""kombu's SQLAlchemy transport, polling every 0.1 s instead of every 1 s.

Its `polling_interval` cannot be set through broker_transport_options: that transport passes
its options straight to `create_engine` (../shared/DESIGN.md, facts measured). A class
attribute is the clean way; registered as the `kazru-sqla` alias in celery_app.
"""

from kombu.transport.sqlalchemy import Transport as _SqlaTransport


class Transport(_SqlaTransport):
    polling_interval = 0.1
