"""`get` executions: read the job's OIDs for the OLT's present ONUs and write the inventory.

Fewest round trips. Two ways to read k columns for W wanted ONUs on a device whose tables
hold about T rows:

* walk the k columns together: one GetBulk returns `bulk_size` rows of every column, so
  about ceil(T / bulk_size) + 1 requests whatever k is;
* batched GET of the exact instances: `get_batch` OIDs per request, ceil(W * k / get_batch)
  requests.

We estimate T as the OLT's inventory rows (present or not: an offline ONU often still has
rows), take whichever needs fewer requests, and walk on a tie. With the defaults
(bulk_size 25, get_batch 32) that means: one column for every ONU -> GET (W/32 < T/25);
two or more columns for more than about 40-60 % of the rows -> walk; a few ONUs -> GET.
When the OLT's index formula allows trailing sub-ids (ZTE rx power `…<pon>.<onu>.1`) the
exact instance cannot be built from the stored index, so those OLTs always walk.
"""
from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any

from facho.inventory.events.detect import POWER_EVENT_DB
from facho.inventory import notes
from facho.inventory import writes as inventory
from facho.inventory import uptime
from facho.inventory.discovery import (ExecutionConfigError, check_oid_brands, find_formula,
                                       formula_params, raw_key_function)
from facho.inventory.writes import FieldRule, field_rule
from facho.models import Olt, SnmpJob
from facho.snmp import SnmpClient, SnmpTarget
from facho.executions.targets import run_snmp as run


def get_rules(job: SnmpJob, olt: Olt) -> tuple[list[FieldRule], list[str]]:
    """Rules that write a field or a history metric, and the names of the OIDs ignored
    (nothing to feed)."""
    check_oid_brands(job, olt)
    rules = [field_rule(o) for o in job.oids]
    usable = [r for r in rules if r.field or r.metric]
    ignored = [r.nombre for r in rules if not (r.field or r.metric)]
    if not usable:
        raise ExecutionConfigError(
            f"La tarea get «{job.nombre}» no tiene OIDs que escriban un campo de la ONU "
            "(descripción, serial, estado, potencia, distancia…) o una métrica del "
            "historial (espacio «metrica»): revise sus OIDs.")
    return usable, ignored


def choose_method(wanted: int, table_rows: int, columns: int, bulk_size: int,
                  get_batch: int, trailing: bool) -> str:
    """`walk` or `get`, whichever needs fewer requests (see the module docstring)."""
    if trailing:
        return "walk"
    walk_requests = math.ceil(max(table_rows, wanted) / max(1, bulk_size)) + 1
    get_requests = math.ceil(wanted * columns / max(1, get_batch))
    return "walk" if walk_requests <= get_requests else "get"


def read_walk(client: SnmpClient, rules: list[FieldRule], wanted: dict[str, int],
              params: dict) -> dict[str, dict[int, Any]]:
    roots = list(dict.fromkeys(r.oid for r in rules))
    walked = run(client.walk_columns(roots))
    key = raw_key_function(params)
    read: dict[str, dict[int, Any]] = {}
    for position, rule in enumerate(rules):
        for index, value in walked[rule.oid]:
            raw = key(index, wanted)
            if raw is not None and raw in wanted:
                read.setdefault(raw, {})[position] = value
    return read


def read_get(client: SnmpClient, rules: list[FieldRule], wanted: dict[str, int]
             ) -> dict[str, dict[int, Any]]:
    requests = [(f"{rule.oid}.{raw}", raw, position)
                for raw in wanted for position, rule in enumerate(rules)]
    values = run(client.get_many([oid for oid, _, _ in requests], strict=False))
    read: dict[str, dict[int, Any]] = {}
    for oid, raw, position in requests:
        value = values.get(oid)
        if value is not None:
            read.setdefault(raw, {})[position] = value
    return read


def read_values(execution_id: int, job: SnmpJob, olt: Olt, target: SnmpTarget,
                now: datetime, power_event_db: float = POWER_EVENT_DB) -> dict:
    """Read and write (not committed). Returns the result_summary. `now` is UTC;
    `power_event_db`: see `writes.apply_get`."""
    started = time.monotonic()
    rules, ignored = get_rules(job, olt)
    params = formula_params(find_formula(olt))
    olt_id = olt.id
    wanted = inventory.present_onus(olt_id)         # ends the read transaction
    summary: dict[str, Any] = {"oids": [r.nombre for r in rules]}
    if ignored:
        summary["ignored_oids"] = ignored
    if not wanted:
        summary.update(onus=0, updated=0, unchanged=0, missing=0, method="none",
                       varbinds=0, requests=0, note=notes.NO_PRESENT)
        summary["duration_ms"] = int((time.monotonic() - started) * 1000)
        return summary
    table_rows = inventory.inventory_size(olt_id)
    method = choose_method(len(wanted), table_rows, len(set(r.oid for r in rules)),
                           target.bulk_size, target.get_batch,
                           int(params.get("max_trailing", 0)) > 0)
    client = SnmpClient(target)
    if method == "walk":
        read = read_walk(client, rules, wanted, params)
    else:
        read = read_get(client, rules, wanted)
    summary.update(method=method, varbinds=client.stats["varbinds"],
                   requests=client.stats["requests"],
                   walk_ms=int((time.monotonic() - started) * 1000))
    uptime_s = uptime.read(client)     # after the figures: they are the reads
    summary.update(inventory.apply_get(olt_id, execution_id, read, rules, now, wanted,
                                       power_event_db))
    uptime.note(summary, olt_id, uptime_s, now)
    if summary.get("warnings"):
        summary["note"] = " ".join(summary["warnings"])
    summary["duration_ms"] = int((time.monotonic() - started) * 1000)
    return summary
