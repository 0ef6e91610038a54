"""SNMP for Facho: an asyncio client (v1/v2c on its own single-pass codec, v3 through
puresnmp), closing transport, bounded walks and operator-readable errors.

Actors are synchronous Dramatiq threads: ``run(coro)`` runs one coroutine on a fresh event
loop in the calling thread (never share a loop between threads), e.g.

    from facho.snmp import SnmpClient, SnmpTarget, run
    rows = run(SnmpClient(SnmpTarget(ip, community=c)).walk(oid))
"""
from __future__ import annotations

import asyncio
from typing import Awaitable, TypeVar

from facho.snmp.client import SnmpClient, SnmpTarget
from facho.snmp.codec import END_OF_MIB_VIEW, NO_SUCH_INSTANCE, NO_SUCH_OBJECT
from facho.snmp.errors import (SnmpAgentError, SnmpAgentLoop, SnmpAuthError, SnmpBadData, SnmpConfigError,
                               SnmpError, SnmpTimeout, SnmpTooManyRows, SnmpUnknownOid,
                               SnmpUnreachable, SnmpWalkDeadline)
from facho.snmp.transport import UdpChannel, make_sender
from facho.snmp.walk import TableRow, WalkLimits, align_rows

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    """Run ``coro`` to completion on a new event loop (closed afterwards, sockets too)."""
    return asyncio.run(coro)


__all__ = [
    "SnmpClient", "SnmpTarget", "run", "TableRow", "WalkLimits", "align_rows",
    "UdpChannel", "make_sender", "NO_SUCH_OBJECT", "NO_SUCH_INSTANCE", "END_OF_MIB_VIEW",
    "SnmpError", "SnmpTimeout", "SnmpUnreachable", "SnmpUnknownOid", "SnmpBadData",
    "SnmpAgentLoop", "SnmpAgentError", "SnmpAuthError", "SnmpWalkDeadline", "SnmpTooManyRows",
    "SnmpConfigError",
]
