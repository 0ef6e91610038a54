"""The worker's Flask app is built when the worker boots, not on its first message."""
from __future__ import annotations

import pytest

from facho.middleware import app_context


@pytest.fixture
def no_app(monkeypatch):
    monkeypatch.setattr(app_context, "_app", None)
    monkeypatch.setattr(app_context, "_app_factory", None)


def test_a_booting_worker_builds_its_app_before_any_message(no_app):
    built = []
    app_context.set_app_factory(lambda: built.append("app") or "the app")
    app_context.AppContextMiddleware().after_worker_boot(broker=None, worker=None)
    assert built == ["app"]
    assert app_context.get_app() == "the app" and built == ["app"]   # not built again


def test_a_factory_that_fails_at_boot_leaves_the_error_to_the_first_message(no_app, caplog):
    def broken():
        raise RuntimeError("FACHO_DATABASE_URL inválida")

    app_context.set_app_factory(broken)
    app_context.AppContextMiddleware().after_worker_boot(broker=None, worker=None)
    assert "app_build_failed" in caplog.text
    with pytest.raises(RuntimeError, match="inválida"):
        app_context.get_app()


def test_a_process_with_its_app_bound_builds_nothing(no_app):
    app_context.bind_app("bound")
    app_context.set_app_factory(lambda: pytest.fail("the bound app is the app"))
    app_context.AppContextMiddleware().after_worker_boot(broker=None, worker=None)
    assert app_context.get_app() == "bound"
