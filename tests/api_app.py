"""A real API app on a fresh SQLite database and storage dir, for fast in-process tests
with FastAPI's TestClient (no worker: uploaded jobs stay queued)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from kazru_stt.asgi import create_app
from kazru_stt.config import Settings
from kazru_stt.db.migrate import upgrade
from kazru_stt.services import accounts
from kazru_stt.services.context import ServiceContext


class ApiApp:
    def __init__(self, tmp: Path, **settings):
        self.settings = Settings(data_dir=tmp, **settings)
        upgrade(self.settings.resolved_database_url)
        self.ctx = ServiceContext(base_settings=self.settings)
        self.app = create_app(self.ctx)

    def user(self, email: str, *, admin: bool = False, password: str | None = None) -> str:
        """Create an account; returns a new API key of it."""
        user = accounts.create_user(self.ctx, email, password, admin=admin)
        return accounts.create_key(self.ctx, user["id"], "tests")["key"]

    def client(self, key: str | None = None, **kwargs) -> TestClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return TestClient(self.app, headers=headers, raise_server_exceptions=False, **kwargs)
