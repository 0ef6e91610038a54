"""`flask facho restart`: a graceful restart of the `dramatiq` worker processes, asked
through Redis (the old `gestionar_sistema.py restart`).

Why through Redis and not a signal from the CLI: the CLI may run on another host than the
workers, and only a worker process knows which `dramatiq` main process started it. Each
worker process (facho.middleware.restart.WorkerRestart) sends SIGHUP to its own
`dramatiq` main process, which stops its worker processes gracefully (running executions
get Dramatiq's Shutdown and hand their row back, see actors/executions.py `_last_resort`)
and then re-executes itself with the same pid. So honcho or systemd see no process exit;
web and the scheduler are not touched.

Keys, under the broker's namespace; a worker is named `host:pid`, as in its presence key
(`facho:worker:<host:pid>`, facho.middleware.presence.WorkerPresence) and in `flask facho workers`:

- `facho:restart:request`: the restart being waited for, JSON {"id", "targets", "at"}.
  Written by the CLI with SET NX (one restart at a time) and a TTL; deleted by the CLI when
  it stops waiting, so a worker that looks late does not restart behind the operator's back.
  `targets` are the workers alive when it was asked: processes started by the restart are
  not in it, so they never restart again.
- `facho:restart:<id>`: a hash of answers. Field `<host:pid>`: what that worker did (JSON,
  `state` one of restarting / skipped / failed / stopped). Field `signal:<host>:<ppid>`:
  the worker that signalled that `dramatiq` main process (HSETNX: a second SIGHUP to the
  main would kill its worker processes instead of stopping them). Field `new:<host:pid>`:
  a worker process started by that main process after the restart.

Times are seconds (`timeout_s`, `ttl_s`), epoch seconds for `at`.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

import redis

from facho.messaging import NAMESPACE

REQUEST_KEY = f"{NAMESPACE}:restart:request"
ANSWERS_TTL_S = 3600          # answers stay an hour, for a look after the command ended
REQUEST_MARGIN_S = 30         # the request outlives the CLI's wait by this, if the CLI dies
POLL_S = 0.2                  # how often the CLI reads the answers

RESTARTING, SKIPPED, FAILED, STOPPED = "restarting", "skipped", "failed", "stopped"

# Delete the request only if it is still ours: a later restart must not lose its request.
_WITHDRAW = """
local raw = redis.call('GET', KEYS[1])
if raw and cjson.decode(raw)['id'] == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def answers_key(request_id: str) -> str:
    return f"{NAMESPACE}:restart:{request_id}"


# --- the asking side (CLI) ---------------------------------------------------------------

def post_request(client: redis.Redis, targets: list[str], ttl_s: float) -> tuple[str, dict | None]:
    """Ask `targets` (worker ids `host:pid`) to restart. Returns (request id, None), or
    ("", the request already in progress) when another restart is being waited for.
    The request expires after `ttl_s` seconds if nobody withdraws it."""
    request = {"id": uuid.uuid4().hex[:12], "targets": sorted(targets), "at": time.time()}
    if client.set(REQUEST_KEY, json.dumps(request), nx=True, ex=max(1, int(ttl_s))):
        return request["id"], None
    return "", current_request(client)


def withdraw_request(client: redis.Redis, request_id: str) -> bool:
    """Delete the request if it is still `request_id`'s; True when deleted."""
    return bool(client.eval(_WITHDRAW, 1, REQUEST_KEY, request_id))


def current_request(client: redis.Redis) -> dict | None:
    raw = client.get(REQUEST_KEY)
    return json.loads(raw) if raw else None


# --- the answering side (worker processes) ------------------------------------------------

def answer(client: redis.Redis, request_id: str, name: str, data: dict) -> None:
    """Record what worker or field `name` did for the request (JSON `data`)."""
    key = answers_key(request_id)
    pipe = client.pipeline()
    pipe.hset(key, name, json.dumps({**data, "at": time.time()}))
    pipe.expire(key, ANSWERS_TTL_S)
    pipe.execute()


def claim_signal(client: redis.Redis, request_id: str, host: str, ppid: int,
                 worker_id: str) -> bool:
    """True for the first worker process of main process `host`/`ppid` to ask: only that
    one sends SIGHUP (Dramatiq's main forwards every SIGHUP, and a worker process that gets
    a second one exits at once instead of finishing its executions)."""
    key = answers_key(request_id)
    won = client.hsetnx(key, f"signal:{host}:{ppid}", worker_id)
    client.expire(key, ANSWERS_TTL_S)
    return bool(won)


def signalled_by(client: redis.Redis, request_id: str, host: str, ppid: int) -> str | None:
    """The worker that signalled main process `host`/`ppid` for this request, or None."""
    raw = client.hget(answers_key(request_id), f"signal:{host}:{ppid}")
    return raw.decode() if raw else None


# --- reading and telling the answers (CLI) ------------------------------------------------

@dataclass
class Answers:
    workers: dict[str, dict] = field(default_factory=dict)   # worker id -> last answer
    new: dict[str, dict] = field(default_factory=dict)       # new worker id -> its info


def read_answers(client: redis.Redis, request_id: str) -> Answers:
    out = Answers()
    for raw_name, raw in client.hgetall(answers_key(request_id)).items():
        name = raw_name.decode()
        if name.startswith("signal:"):
            continue
        if name.startswith("new:"):
            out.new[name[4:]] = json.loads(raw)
        else:
            out.workers[name] = json.loads(raw)
    return out


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def describe(worker_id: str, data: dict) -> str:
    """One Spanish line for what a worker answered."""
    state = data.get("state")
    if state == RESTARTING:
        running = len(data.get("running", []))
        return (f"{worker_id}: confirmó el reinicio; se detiene con "
                f"{_n(running, 'ejecución en curso', 'ejecuciones en curso')}")
    if state == STOPPED:
        if not (data.get("finished") or data.get("handed_back") or data.get("unfinished")):
            return f"{worker_id}: detenido; no tenía ejecuciones en curso"
        line = (f"{worker_id}: detenido: "
                f"{_n(data.get('finished', 0), 'ejecución terminada', 'ejecuciones terminadas')}, "
                f"{_n(data.get('handed_back', 0), 'devuelta', 'devueltas')} a la cola")
        if data.get("unfinished"):
            line += (f", {_n(data['unfinished'], 'sin cerrar', 'sin cerrar')} (otro worker "
                     "la retomará cuando su latido venza)")
        return line
    if state == SKIPPED:
        return f"{worker_id}: no se reinicia: {data.get('reason', '?')}"
    if state == FAILED:
        return f"{worker_id}: no pudo reiniciarse: {data.get('reason', '?')}"
    return f"{worker_id}: respuesta desconocida ({state})"


def describe_new(worker_id: str, data: dict) -> str:
    return (f"{worker_id}: proceso worker nuevo en marcha (lo inició el `dramatiq` "
            f"pid {data.get('ppid')})")


@dataclass
class RestartResult:
    request_id: str
    targets: list[str]
    answers: Answers
    problem: str | None       # Spanish, for `error:` and a non-zero exit; None when done

    @property
    def restarted(self) -> list[str]:
        return [w for w, a in self.answers.workers.items() if a.get("state") in (RESTARTING, STOPPED)]


def _groups_done(answers: Answers) -> tuple[list[str], list[str]]:
    """(restarting workers not stopped yet, `dramatiq` mains still without as many new
    worker processes as they had)."""
    not_stopped = [w for w, a in answers.workers.items() if a.get("state") == RESTARTING]
    wanted: dict[tuple, int] = {}
    for a in answers.workers.values():
        if a.get("state") in (RESTARTING, STOPPED):
            group = (a.get("host"), a.get("ppid"))
            wanted[group] = wanted.get(group, 0) + 1
    got: dict[tuple, int] = {}
    for a in answers.new.values():
        group = (a.get("host"), a.get("ppid"))
        got[group] = got.get(group, 0) + 1
    missing = [f"{host} (dramatiq pid {ppid})" for (host, ppid), n in sorted(wanted.items(), key=str)
               if got.get((host, ppid), 0) < n]
    return not_stopped, missing


def restart_workers(client: redis.Redis, targets: list[str], timeout_s: float,
                    echo: Callable[[str], None] = print,
                    sleep: Callable[[float], None] = time.sleep) -> RestartResult:
    """Ask `targets` to restart and wait up to `timeout_s` seconds for every one to answer,
    every restarting one to stop, and its `dramatiq` main process to start new worker
    processes. Prints each answer as it arrives. `problem` says what did not happen."""
    if not targets:
        return RestartResult("", [], Answers(), "ningún worker confirmó el reinicio: no hay "
                             "workers activos (vea `flask facho workers`; ¿está corriendo "
                             "`dramatiq actors`?)")
    request_id, busy = post_request(client, targets, timeout_s + REQUEST_MARGIN_S)
    if busy is not None:
        return RestartResult("", targets, Answers(), (
            f"ya hay un reinicio en curso (pedido {busy.get('id')}); espere a que termine"))
    echo(f"Reinicio pedido ({request_id}) a {_n(len(targets), 'worker', 'workers')}: "
         f"{', '.join(targets)}; espera hasta {timeout_s:g} s")
    deadline = time.monotonic() + timeout_s
    told: dict[str, object] = {}
    try:
        while True:
            answers = read_answers(client, request_id)
            for worker_id, data in sorted(answers.workers.items()):
                if told.get(worker_id) != data.get("state"):
                    told[worker_id] = data.get("state")
                    echo(describe(worker_id, data))
            for worker_id, data in sorted(answers.new.items()):
                if f"new:{worker_id}" not in told:
                    told[f"new:{worker_id}"] = True
                    echo(describe_new(worker_id, data))
            silent = [t for t in targets if t not in answers.workers]
            not_stopped, missing_new = _groups_done(answers)
            if not (silent or not_stopped or missing_new) or time.monotonic() >= deadline:
                break
            sleep(POLL_S)
    finally:
        withdraw_request(client, request_id)
    for worker_id in silent:
        echo(f"{worker_id}: no respondió en {timeout_s:g} s (si ese proceso ya no existe, "
             "su registro vence solo en 30 s)")
    result = RestartResult(request_id, targets, answers, None)
    failed = [w for w, a in answers.workers.items() if a.get("state") == FAILED]
    if not result.restarted:
        skipped = [w for w, a in answers.workers.items() if a.get("state") == SKIPPED]
        result.problem = f"ningún worker confirmó el reinicio en {timeout_s:g} s" + (
            f" (no pudieron reiniciarse: {', '.join(failed)})" if failed else
            " (los que respondieron no son procesos `dramatiq actors`)" if skipped else "")
        return result
    pending = []
    if silent:
        pending.append(f"{_n(len(silent), 'worker no respondió', 'workers no respondieron')}")
    if not_stopped:
        pending.append(f"{_n(len(not_stopped), 'worker sigue', 'workers siguen')} "
                       f"deteniéndose ({', '.join(not_stopped)})")
    if missing_new:
        pending.append("sin procesos nuevos todavía en " + ", ".join(missing_new))
    if failed:
        pending.append(f"no pudieron reiniciarse: {', '.join(failed)}")
    if pending:
        result.problem = f"reinicio incompleto tras {timeout_s:g} s: " + "; ".join(pending)
        return result
    echo(f"Reinicio completo: {_n(len(result.restarted), 'worker reiniciado', 'workers reiniciados')}, "
         f"{_n(len(answers.new), 'proceso nuevo', 'procesos nuevos')}")
    return result
