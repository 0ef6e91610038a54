"""From an `Olt` row and the configuration to what the SNMP layer and the per-OLT limiter
need. The community and the SNMPv3 keys only travel inside `SnmpTarget` (excluded from its
repr), never into logs or summaries.
"""
from __future__ import annotations

from dataclasses import dataclass

from facho.snmp import SnmpTarget

# Dramatiq's time limit of one execution. Walks get a shorter deadline so a slow OLT
# ends as a clean FAILED (with a Spanish message) before Dramatiq interrupts the thread.
EXECUTION_TIME_LIMIT_MS = 15 * 60 * 1000
WALK_DEADLINE_S = 10 * 60.0
# Rows per walked column: a GPON OLT holds at most a few tens of thousands of ONUs; more
# means the OID is a whole MIB branch, not a table column.
MAX_ROWS = 100_000


@dataclass(frozen=True)
class OltLimits:
    olt_id: int
    max_concurrent: int       # executions at once on this OLT
    max_starts_per_minute: int
    lease_ttl_ms: int         # per-holder lease; a killed worker's slot frees after this


def snmp_target(olt, config, **overrides) -> SnmpTarget:
    """The SNMP target of an OLT row with the configured timeouts.

    `config` is `facho.config.Config` (timeout per attempt, extra attempts). An SNMPv3 OLT
    (`snmp_version` "v3") carries its user, protocols and keys; its community is unused.
    The OLT's polling budget travels with it (`facho.snmp.pacing`): every execution, retry,
    manual run and "Probar" of the OLT books its requests in the same Redis limiter. In
    GETNEXT mode `bulk_size` is 1, so `get_values.choose_method` counts one request per row.
    """
    options = dict(
        host=olt.ip_address,
        port=int(olt.snmp_port or 161),
        version=olt.snmp_version or "v2c",
        community=olt.comunidad or "",
        v3_user=olt.v3_usuario or "",
        v3_auth_proto=olt.v3_auth_proto or "",
        v3_auth_key=olt.v3_auth_clave or "",
        v3_priv_proto=olt.v3_priv_proto or "",
        v3_priv_key=olt.v3_priv_clave or "",
        timeout_s=float(config.snmp_timeout_s),
        retries=int(config.snmp_retries),
        walk_deadline_s=WALK_DEADLINE_S,
        max_rows=MAX_ROWS,
        **polling_budget(olt, config),
    )
    options.update(overrides)
    return SnmpTarget(**options)


def polling_budget(olt, config) -> dict:
    """The `SnmpTarget` options of an OLT's polling budget (see `snmp_target`)."""
    getnext_only = bool(getattr(olt, "getnext_only", False))
    per_second = int(getattr(olt, "max_requests_per_second", 0) or 0)
    gate = None
    if per_second > 0:
        from facho.executions.request_rate import RequestRate
        from facho.redis_conn import get_redis

        gate = RequestRate(get_redis(config)).gate(olt.id, per_second)
    return dict(bulk_size=1 if getnext_only else max(1, int(olt.max_repetitions or 25)),
                getnext_only=getnext_only, pause_ms=int(olt.request_pause_ms or 0), gate=gate)


def olt_limits(olt, config) -> OltLimits:
    return OltLimits(
        olt_id=olt.id,
        max_concurrent=max(1, int(olt.max_concurrent or 1)),
        max_starts_per_minute=max(1, int(olt.max_starts_per_minute or 1)),
        lease_ttl_ms=int(config.olt_lease_ttl_ms),
    )


def run_snmp(coro):
    """Run one SNMP coroutine to completion for this (worker) thread, on the process's
    shared event loop (`facho.snmp.shared_loop`): every walk in flight in a worker process
    is a task of one loop, not a loop per thread (figures: `bench/bench_fleet.py`).

    Dramatiq's time limit (and shutdown notice) arrive as an exception raised
    asynchronously in the worker thread, which is waiting here: the walk is cancelled
    (its socket closed) and the exception propagates, so the actor always sees it."""
    from facho.snmp.shared_loop import shared_loop

    return shared_loop().run(coro)
