"""Settings an administrator changes at run time: checked as at start, stored with their
history, the environment winning where it sets them, followed by a running process."""

import time

import pytest

from kazru_stt.config import Settings
from kazru_stt.db.migrate import upgrade
from kazru_stt.domain.errors import InvalidOptionError, NotFound
from kazru_stt.services import runtime_settings, settings_in_effect
from kazru_stt.services.context import ServiceContext


@pytest.fixture
def base(tmp_path, monkeypatch):
    for name in settings_in_effect.TUNABLE:
        monkeypatch.delenv(settings_in_effect.env_name(name), raising=False)
    settings = Settings(data_dir=tmp_path)
    upgrade(settings.resolved_database_url)
    return settings


def _state(base, name):
    states = runtime_settings.states(base, base.resolved_database_url)
    return next(s for s in states if s.name == name)


def test_a_change_is_checked_stored_and_kept_in_the_history(base):
    url = base.resolved_database_url
    assert _state(base, "languages").source == "default"
    state = runtime_settings.change(base, url, "languages", " kk,ru,en ", actor_id=None)
    assert (state.value, state.source, state.default) == ("kk,ru,en", "database", "kk,ru")
    runtime_settings.change(base, url, "languages", None, actor_id=7)
    assert _state(base, "languages").source == "default"
    changes = runtime_settings.history(url, "languages")
    assert [(c.old, c.new, c.actor_id) for c in changes] == [
        ("kk,ru,en", None, 7),
        (None, "kk,ru,en", None),
    ]
    for name, value in [
        ("languages", "kk,zz"),
        ("languages", ""),
        ("quota_active_jobs", "-1"),
        ("rate_limit_login", "ten a minute"),
        ("engine", "nosuch"),
        ("timezone", "Almaty"),
        ("diarize_by_default", "maybe"),
    ]:
        with pytest.raises(InvalidOptionError):
            runtime_settings.change(base, url, name, value, actor_id=None)
    with pytest.raises(NotFound):  # a place or a secret is the environment's alone
        runtime_settings.change(base, url, "database_url", "sqlite://", actor_id=None)
    assert len(runtime_settings.history(url)) == 2  # refusals change nothing


def test_the_environment_wins_where_it_sets_a_setting(base, monkeypatch):
    url = base.resolved_database_url
    runtime_settings.change(base, url, "retention_days", "7", actor_id=None)
    monkeypatch.setenv("KAZRU_RETENTION_DAYS", "30")
    state = _state(base, "retention_days")
    assert (state.source, state.stored) == ("environment", "7")
    assert ServiceContext(base_settings=base).settings.retention_days == 30.0


def test_a_running_process_follows_a_change_within_the_refresh(base, monkeypatch):
    monkeypatch.setattr(settings_in_effect, "REFRESH_S", 0.05)
    ctx = ServiceContext(base_settings=base)
    assert ctx.settings.diarize_by_default is False
    runtime_settings.change(base, ctx.db_url, "diarize_by_default", "true", actor_id=None)
    deadline = time.monotonic() + 5
    while not ctx.settings.diarize_by_default:  # refreshed in the background
        assert time.monotonic() < deadline, "the change did not arrive"
        time.sleep(0.02)
    assert ctx.settings.quota_active_jobs == base.quota_active_jobs  # the rest as it was


def test_a_stored_value_that_no_longer_validates_is_ignored_alone(base):
    from kazru_stt.db.models import RuntimeSetting
    from kazru_stt.db.session import session_scope

    with session_scope(base.resolved_database_url) as db:
        db.add(RuntimeSetting(name="quota_active_jobs", value="-3"))
        db.add(RuntimeSetting(name="retention_days", value="9"))
    settings = ServiceContext(base_settings=base).settings
    assert (settings.quota_active_jobs, settings.retention_days) == (5, 9.0)
    assert _state(base, "quota_active_jobs").ignored
