""""Probar" against a live OLT: walk the first rows of the columns being configured and
build their preview (`facho.inventory.preview`). The I/O edge of the preview.

A probe is an SNMP client like any execution: it takes a slot of the OLT's limiter (so it
never adds load beyond `max_concurrent`; a busy OLT is reported, not waited for), its
walk is bounded in rows (`rows`, at most `preview.MAX_ROWS`) and in time
(`PROBE_DEADLINE_S` for the whole walk, one attempt of the configured SNMP timeout), and
nothing it reads is stored.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from facho.executions.olt_limiter import OltBusy, OltLimiter
from facho.executions.targets import olt_limits, run_snmp, snmp_target
from facho.inventory.decoders import column_oids, describe
from facho.inventory.preview import MAX_ROWS, Preview, ProbeColumn, build_preview
from facho.redis_conn import get_redis
from facho.snmp import SnmpClient, SnmpError

PROBE_DEADLINE_S = 15.0
BUSY = ("La OLT {olt} está ocupada ({limit} consulta(s) a la vez, todas en uso): "
        "intente «Probar» de nuevo en unos segundos.")
FAILED = "No se pudo leer la OLT {olt}: {error}"


class ProbeError(Exception):
    """A probe that could not read the OLT; str() is Spanish for the panel."""


def probe(olt, config, columns: Sequence[ProbeColumn], params: Mapping | None,
          rows: int) -> Preview:
    """Walk the first `rows` rows of `columns` (and of the formula's columns) on `olt`.

    Raises ProbeError (busy OLT, timeout, refused community…)."""
    rows = max(1, min(int(rows), MAX_ROWS))
    roots = list(dict.fromkeys([c.oid for c in columns]
                               + (list(column_oids(params).values()) if params else [])))
    limits = olt_limits(olt, config)
    target = snmp_target(olt, config, retries=0, walk_deadline_s=PROBE_DEADLINE_S,
                         bulk_size=min(rows, 50, int(olt.max_repetitions or 25)))
    limiter = OltLimiter(get_redis(config))
    try:
        with limiter.hold(limits.olt_id, limits.max_concurrent, ttl_ms=limits.lease_ttl_ms):
            walked = run_snmp(SnmpClient(target).walk_columns(roots, head_rows=rows))
    except OltBusy:
        raise ProbeError(BUSY.format(olt=olt.abreviatura, limit=limits.max_concurrent)) from None
    except SnmpError as exc:
        raise ProbeError(FAILED.format(olt=olt.abreviatura, error=exc.message)) from None
    return build_preview(walked, columns, params, rows,
                         formula=describe(params) if params else None)
