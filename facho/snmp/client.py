"""The asyncio SNMP client the workers use: get, batched multi-get and bounded walks.

    target = SnmpTarget("10.0.0.5", community="secret", timeout_s=2, retries=1)
    client = SnmpClient(target)
    rows = await client.walk("1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3")        # [(index, value)]
    table = await client.table({"serial": SERIAL_OID, "status": STATUS_OID})  # aligned rows

Each call opens one UDP socket and closes it, so one client may run several calls at once
(``asyncio.gather``); ``async with client:`` instead keeps one socket for several calls,
which then take turns. ``client.stats`` counts requests, datagrams sent (retries included) and
varbinds, for an execution's ``result_summary``.
"""
from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any, AsyncIterator

from facho.snmp import codec
from facho.snmp.codec import GET, NO_SUCH_INSTANCE, NO_SUCH_OBJECT
from facho.snmp.errors import SnmpBadData, SnmpConfigError, SnmpUnknownOid
from facho.snmp.session import (NO_SUCH_NAME, TOO_BIG, CommunitySession, Session,
                                V3Session, check_status)
from facho.snmp.pacing import RequestGate, pacer_for
from facho.snmp.transport import UdpChannel
from facho.snmp.walk import Index, TableRow, WalkLimits, align_rows, walk_columns

VERSIONS = {"v1": codec.VERSION_V1, "1": codec.VERSION_V1,
            "v2c": codec.VERSION_V2C, "2c": codec.VERSION_V2C, "v2": codec.VERSION_V2C,
            "v3": 3, "3": 3}


@dataclass(frozen=True)
class SnmpTarget:
    """Where and how to ask. Secrets are excluded from ``repr`` so they never reach logs.

    ``timeout_s``: seconds per attempt. ``retries``: extra attempts after the first.
    ``bulk_size``: rows per GetBulk. ``get_batch``: OIDs per GET request.
    ``walk_deadline_s``: seconds per walk. ``max_rows``: rows per walked column.
    The OLT's polling budget (``facho.snmp.pacing``): ``bulk_size`` is max-repetitions,
    ``getnext_only`` walks without GetBulk, ``pause_ms`` is the silence (ms) between an
    answer and the next request, ``gate`` the OLT's shared requests-per-second limiter.
    """

    host: str
    port: int = 161
    version: str = "v2c"
    community: str = field(default="public", repr=False)
    timeout_s: float = 2.0
    retries: int = 1
    bulk_size: int = 25
    get_batch: int = 32
    walk_deadline_s: float = 300.0
    max_rows: int = 200_000
    v3_user: str = ""
    v3_auth_proto: str = ""  # "md5" | "sha1"
    v3_auth_key: str = field(default="", repr=False)
    v3_priv_proto: str = ""
    v3_priv_key: str = field(default="", repr=False)
    v3_context: str = ""
    getnext_only: bool = False
    pause_ms: int = 0
    gate: RequestGate | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"


def _oid(text: str) -> tuple[int, ...]:
    try:
        return codec.parse_oid(text)
    except ValueError as exc:
        raise SnmpConfigError(str(exc)) from None


class SnmpClient:
    def __init__(self, target: SnmpTarget) -> None:
        version = VERSIONS.get(str(target.version).lower())
        if version is None:
            raise SnmpConfigError(f"versión SNMP desconocida {target.version!r}", target.label)
        self.target = target
        self._version = version
        self._session: Session | None = None
        self._held = None
        self._lock: asyncio.Lock | None = None  # one operation at a time on a held socket
        self.stats: dict[str, int] = {"requests": 0, "sends": 0, "varbinds": 0,
                                      "getbulk": 0, "getnext": 0}

    # -- sessions ------------------------------------------------------------------

    async def __aenter__(self) -> "SnmpClient":
        self._held = self._open()
        self._session = await self._held.__aenter__()
        self._lock = asyncio.Lock()
        return self

    async def __aexit__(self, *exc_info) -> None:
        session, self._session = self._session, None
        if session is not None:
            await self._held.__aexit__(*exc_info)

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[Session]:
        t = self.target
        pacer = pacer_for(t)  # one per operation: the pause counts within a walk
        if self._version == 3:
            yield V3Session(t.host, t.port, user=t.v3_user, auth_proto=t.v3_auth_proto,
                            auth_key=t.v3_auth_key, priv_proto=t.v3_priv_proto,
                            priv_key=t.v3_priv_key, context=t.v3_context,
                            timeout_s=t.timeout_s,
                            retries=t.retries, target=t.label, pacer=pacer)
            return
        channel = UdpChannel(t.host, t.port, timeout_s=t.timeout_s, retries=t.retries,
                             target=t.label, pacer=pacer)
        async with channel:
            try:
                yield CommunitySession(channel, self._version, t.community)
            finally:
                self.stats["sends"] += channel.sends

    @asynccontextmanager
    async def _use(self) -> AsyncIterator[Session]:
        if self._session is not None:
            async with self._lock:  # replies are matched per request, one at a time
                yield self._session
            return
        async with self._open() as session:
            yield session

    # -- get ---------------------------------------------------------------------------

    async def get(self, oid: str) -> Any:
        """The value of one object; SnmpUnknownOid if the agent does not have it."""
        return (await self.get_many([oid]))[oid]

    async def get_many(self, oids: Sequence[str], *, strict: bool = True) -> dict[str, Any]:
        """Values of many objects, ``get_batch`` per request (halved on tooBig).

        ``strict``: raise SnmpUnknownOid naming every missing object; otherwise missing
        objects map to None.
        """
        wanted = [(text, codec.encode_oid(_oid(text))) for text in oids]
        result: dict[str, Any] = {}
        missing: list[str] = []
        batch = max(1, self.target.get_batch)
        async with self._use() as session:
            pending = wanted
            while pending:
                chunk, pending = pending[:batch], pending[batch:]
                raw = [o for _, o in chunk]
                response = await session.request(GET, raw)
                self.stats["requests"] += 1
                if response.error_status == TOO_BIG and batch > 1:
                    batch //= 2
                    pending = chunk + pending
                    continue
                if (response.error_status == NO_SUCH_NAME
                        and 0 < response.error_index <= len(chunk)):
                    # v1 refuses the whole PDU for one missing object: drop it, ask again
                    bad = chunk.pop(response.error_index - 1)
                    missing.append(bad[0])
                    pending = chunk + pending
                    continue
                check_status(session.target, response, raw)
                if len(response.varbinds) != len(chunk):
                    raise SnmpBadData(session.target, f"se pidieron {len(chunk)} valores y "
                                      f"llegaron {len(response.varbinds)}")
                self.stats["varbinds"] += len(chunk)
                for (text, _), (_, value) in zip(chunk, response.varbinds):
                    if value is NO_SUCH_OBJECT or value is NO_SUCH_INSTANCE:
                        missing.append(text)
                    else:
                        result[text] = value
        if missing and strict:
            raise SnmpUnknownOid(self.target.label, missing)
        for text in missing:
            result[text] = None
        return result

    # -- walks ---------------------------------------------------------------------------

    def _limits(self, bulk_size, deadline_s, max_rows, head_rows=None) -> WalkLimits:
        t = self.target
        return WalkLimits(bulk_size=bulk_size or t.bulk_size,
                          deadline_s=deadline_s or t.walk_deadline_s,
                          max_rows=max_rows or t.max_rows, head_rows=head_rows,
                          getnext_only=t.getnext_only)

    async def walk_columns(self, roots: Sequence[str], *, bulk_size: int | None = None,
                           deadline_s: float | None = None, max_rows: int | None = None,
                           head_rows: int | None = None) -> dict[str, list[tuple[Index, Any]]]:
        """Walk several columns in the same requests: ``{root: [(index, value), ...]}``;
        with ``head_rows`` only the first rows of each column (a preview)."""
        parsed = [_oid(r) for r in roots]
        limits = self._limits(bulk_size, deadline_s, max_rows, head_rows)
        stats: dict[str, int] = {}
        try:
            async with self._use() as session:
                columns = await walk_columns(session, parsed, limits, stats)
        finally:
            for key in ("requests", "varbinds", "getbulk", "getnext"):
                self.stats[key] += stats.get(key, 0)
        return dict(zip(roots, columns))

    async def walk(self, root: str, **limits) -> list[tuple[Index, Any]]:
        """All rows under ``root`` as ``[(index, value)]``; ``[]`` if the agent has none."""
        return (await self.walk_columns([root], **limits))[root]

    async def table(self, columns: Mapping[str, str], **limits) -> list[TableRow]:
        """Walk named columns together and join them by index (see ``align_rows``)."""
        walked = await self.walk_columns(list(columns.values()), **limits)
        return align_rows({name: walked[oid] for name, oid in columns.items()})

    def with_options(self, **changes) -> "SnmpClient":
        """A client for the same device with other settings (``timeout_s``, ``bulk_size``…)."""
        return SnmpClient(replace(self.target, **changes))
