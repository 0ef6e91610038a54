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


def init_app(config) -> None:
    global _configured
    if _configured:
        return
    level = os.environ.get("FACHO_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
    )
    _configured = True
