"""Logging: one line per event with stable key=value fields."""
from __future__ import annotations

import logging
import os

_configured = False


def kv(**fields) -> str:
    """Render fields as `key=value` pairs; values with spaces are quoted."""
    parts = []
    for key, value in fields.items():
        text = "" if value is None else str(value)
        if not text or any(c in text for c in ' "='):
            text = '"' + text.replace('"', "'") + '"'
        parts.append(f"{key}={text}")
    return " ".join(parts)


# Libraries whose INFO lines are routine chatter for an operator: alembic lists the 8
# autogenerate plugins it sets up whenever it is imported (every process start), periodiq
# says "Scheduling …" for every periodic actor every minute. Their warnings and errors
# still show; FACHO_LOG_LEVEL=DEBUG shows everything.
CHATTY_LOGGERS = ("alembic.runtime.plugins", "periodiq")


def log_level() -> int:
    return getattr(logging, os.environ.get("FACHO_LOG_LEVEL", "INFO").upper(), logging.INFO)


def quiet_chatty_loggers() -> None:
    """Done when the `facho` package is imported: alembic logs while it is being imported
    (Flask-Migrate imports it), before any app or logging set-up of ours runs."""
    level = log_level()
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if level <= logging.DEBUG
                                         else max(level, logging.WARNING))


def init_app(config) -> None:
    global _configured
    quiet_chatty_loggers()
    if _configured:
        return
    logging.basicConfig(
        level=log_level(),
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
    )
    _configured = True
