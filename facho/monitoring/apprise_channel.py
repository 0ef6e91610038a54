"""Channels through Apprise (Telegram, e-mail, webhooks, Slack, Discord, Teams, …): URL
validation for the form and the sending of one message.

A channel's URL is a secret (tokens, passwords): Apprise's own log lines never reach
Facho's logs (its logger does not propagate); what it says while sending is captured per
thread, stripped of every piece of the URL, and kept as the outbox row's error."""
from __future__ import annotations

import logging
import re
import threading

import apprise

_apprise_log = logging.getLogger("apprise")
_apprise_log.propagate = False
_apprise_log.setLevel(logging.WARNING)
_captured = threading.local()


class _PerThread(logging.Handler):
    def emit(self, record):
        lines = getattr(_captured, "lines", None)
        if lines is not None:
            lines.append(record.getMessage())


_apprise_log.addHandler(_PerThread(level=logging.WARNING))

URL_HELP = ("Ejemplos: tgram://token/chat_id, mailto://usuario:clave@servidor?to=noc@isp.pe, "
            "json://servidor/ruta, slack://…, discord://…")


def url_error(url: str | None) -> str | None:
    """A Spanish message when Apprise cannot use `url`, else None (never repeats it)."""
    if not url or not url.strip():
        return "Indique la URL del canal (formato Apprise). " + URL_HELP
    if "://" not in url:
        return ("La URL no es válida: debe tener la forma esquema://… (formato de Apprise). "
                + URL_HELP)
    with _capture():
        ok = apprise.Apprise().add(url.strip())
    if not ok:
        return "Apprise no reconoce esta URL o le falta un dato obligatorio. " + URL_HELP
    return None


def redact(text: str, url: str) -> str:
    """`text` with every piece of `url` (user, password, host, path, token, query values)
    replaced by "****"."""
    pieces = sorted({p for p in re.split(r"[/:@?&=#]+", url.split("://", 1)[-1]) if len(p) >= 3},
                    key=len, reverse=True)
    for piece in pieces:
        text = text.replace(piece, "****")
    return text.replace(url, "****")


class _capture:
    def __enter__(self):
        _captured.lines = []
        return _captured.lines

    def __exit__(self, *exc):
        _captured.lines = None
        return False


def send(url: str, title: str, body: str) -> str | None:
    """Send one message; None when the channel accepted it, else a Spanish error with no
    part of the URL."""
    with _capture() as lines:
        notifier = apprise.Apprise()
        if not notifier.add(url):
            return "La URL del canal no es válida para Apprise."
        try:
            ok = notifier.notify(title=title, body=body)
        except Exception as exc:  # noqa: BLE001 - a plugin's bug must not lose the row
            lines.append(f"{type(exc).__name__}: {exc}")
            ok = False
    if ok:
        return None
    said = "; ".join(lines[-3:])
    return redact("El canal no aceptó la notificación" + (f": {said}" if said else "."), url)
