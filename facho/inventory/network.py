"""The network as a NOC reads it: per PON (one OLT port: one splitter tree, one fibre) and
per OLT, counts of ONUs by state and the rx power spread; the worst PONs across all OLTs.

One GROUP BY over `onus` answers every PON at once (the worst-PONs screen reads 200 OLTs ×
1,000 ONUs in one statement); a PON's or an OLT's page filters the same query. Counts:
`total` every ONU the inventory holds; `online` present and in an online state;
`offline` present and in any other known state (`facho.inventory.events.classify`);
`absent` not seen by the last discoveries; `unknown` present with no state read yet.
Power: min / avg / max of the present ONUs' last rx power (dBm).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from facho.extensions import db
from facho.inventory.events.classify import is_offline_sql, is_online_sql
from facho.models import SUCCESS, Execution, Olt, Onu, SnmpJob

ORDERS = ("desconectadas", "potencia")   # the worst-PONs screen's two sorts


@dataclass      # not frozen: a frozen dataclass costs 6x to build, and the first
class PonStats:  # screen builds one per PON of every OLT (6,400 at 200 OLTs)
    olt_id: int
    olt: str
    slot: int | None
    port: int | None
    total: int
    online: int
    offline: int
    absent: int
    rx_min: float | None
    rx_avg: float | None
    rx_max: float | None
    # the sum and count of the present ONUs' rx power (dBm): what folds PONs into OLTs
    rx_sum: float | None = field(default=None, repr=False, compare=False)
    rx_count: int = field(default=0, repr=False, compare=False)

    @property
    def unknown(self) -> int:
        return self.total - self.online - self.offline - self.absent

    @property
    def name(self) -> str:
        """"0/1/3": frame 0, slot, port, as the ONU names read."""
        return f"0/{'?' if self.slot is None else self.slot}/" \
               f"{'?' if self.port is None else self.port}"

    @property
    def offline_ratio(self) -> float:
        present = self.total - self.absent
        return self.offline / present if present else 0.0


def _count(condition) -> sa.ColumnElement:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _grouped(*where, by_pon: bool = True):
    """The figures grouped by OLT (and PON) over `onus` alone, then joined to the OLT's
    name: grouping by the name instead made PostgreSQL sort every ONU row by it first
    (about 1 s at 200,000 ONUs instead of 0.3 s)."""
    present = Onu.present.is_(True)
    power = sa.case((present, Onu.rx_power))
    keys = [Onu.olt_id] + ([Onu.slot, Onu.port] if by_pon else [])
    inner = (sa.select(*keys, sa.func.count().label("total"),
                       _count(sa.and_(present, is_online_sql(Onu.status))).label("online"),
                       _count(sa.and_(present, is_offline_sql(Onu.status))).label("offline"),
                       _count(sa.not_(present)).label("absent"),
                       sa.func.min(power).label("rx_min"), sa.func.max(power).label("rx_max"),
                       sa.func.sum(power).label("rx_sum"), sa.func.count(power).label("rx_count"))
             .where(*where).group_by(*keys).subquery())
    order = [Olt.abreviatura] + ([inner.c.slot, inner.c.port] if by_pon else [])
    return (sa.select(inner, Olt.abreviatura).join(Olt, Olt.id == inner.c.olt_id)
            .order_by(*order))


def _stats(row, by_pon: bool = True) -> PonStats:
    """A row of `_grouped` as PonStats, unpacked by position (6,400 rows on the first
    screen: attribute access by name per column cost more than the query's own work).
    The average is sum / count, as SQL's avg() computes it."""
    if by_pon:
        olt_id, slot, port, total, online, offline, absent, low, high, rx_sum, count, name = row
    else:
        olt_id, total, online, offline, absent, low, high, rx_sum, count, name = row
        slot = port = None
    rx_sum = None if rx_sum is None else float(rx_sum)
    return PonStats(olt_id, name, slot, port, int(total), int(online), int(offline),
                    int(absent), low, round(rx_sum / count, 2) if count else None, high,
                    rx_sum, int(count))


def pons(olt_id: int | None = None) -> list[PonStats]:
    """Every PON (of one OLT, or all), in OLT / slot / port order."""
    where = [] if olt_id is None else [Onu.olt_id == olt_id]
    # Core rows on the session's connection: the ORM's row processing cost as much as
    # building the PonStats for the 6,400 PONs of 200 OLTs
    return [_stats(row) for row in db.session.connection().execute(_grouped(*where))]


def pon(olt_id: int, slot: int, port: int) -> PonStats | None:
    row = db.session.execute(_grouped(Onu.olt_id == olt_id, Onu.slot == slot,
                                      Onu.port == port)).first()
    return _stats(row) if row else None


def olts() -> list[PonStats]:
    """Every OLT with ONUs, aggregated over its PONs (slot and port None)."""
    return [_stats(row, by_pon=False) for row in db.session.execute(_grouped(by_pon=False))]


def olts_of(every: list[PonStats]) -> list[PonStats]:
    """`olts()` folded from PONs already read (`pons()`): the first screen reads the ONU
    table once for both its lists instead of twice (a GROUP BY over 200,000 rows each)."""
    by_olt: dict[int, list[PonStats]] = {}
    for p in every:
        by_olt.setdefault(p.olt_id, []).append(p)
    out = []
    for olt_id, group in by_olt.items():
        powered = [p for p in group if p.rx_count]
        count = sum(p.rx_count for p in powered)
        total = sum(p.rx_sum for p in powered) if powered else None
        out.append(PonStats(
            olt_id, group[0].olt, None, None, sum(p.total for p in group),
            sum(p.online for p in group), sum(p.offline for p in group),
            sum(p.absent for p in group),
            min((p.rx_min for p in powered), default=None),
            None if total is None else round(total / count, 2),
            max((p.rx_max for p in powered), default=None), total, count))
    return sorted(out, key=lambda o: o.olt)


def olt(olt_id: int) -> PonStats | None:
    row = db.session.execute(_grouped(Onu.olt_id == olt_id, by_pon=False)).first()
    return _stats(row, by_pon=False) if row else None


def worst_pons(order: str = "desconectadas", limit: int = 50,
               every: list[PonStats] | None = None) -> list[PonStats]:
    """The NOC's first screen: PONs of every OLT with the most offline ONUs (count, then
    share), or with the worst (lowest) average rx power; `every`: `pons()` when the
    caller read it already."""
    if order not in ORDERS:
        raise ValueError(f"orden desconocido «{order}»: use {' o '.join(ORDERS)}")
    if every is None:
        every = pons()
    if order == "desconectadas":
        ranked = sorted((p for p in every if p.offline),
                        key=lambda p: (-p.offline, -p.offline_ratio, p.olt, p.name))
    else:
        ranked = sorted((p for p in every if p.rx_avg is not None),
                        key=lambda p: (p.rx_avg, p.olt, p.name))
    return ranked[:limit]


def worst_onus(olt_id: int, slot: int, port: int, limit: int = 10) -> list[Onu]:
    """A PON's present ONUs with the lowest rx power (those without a reading last)."""
    query = (sa.select(Onu).where(Onu.olt_id == olt_id, Onu.slot == slot, Onu.port == port,
                                  Onu.present.is_(True), Onu.rx_power.isnot(None))
             .order_by(Onu.rx_power, Onu.onu_id).limit(limit))
    return list(db.session.execute(query).scalars())


def pon_onus(olt_id: int, slot: int, port: int) -> list[Onu]:
    query = (sa.select(Onu).where(Onu.olt_id == olt_id, Onu.slot == slot, Onu.port == port)
             .order_by(Onu.onu_id, Onu.raw_index))
    return list(db.session.execute(query).scalars())


@dataclass(frozen=True)
class LastWalk:
    execution_id: int
    finished_at: datetime     # UTC
    duration_ms: int | None


def last_walks(olt_ids: list[int] | None = None) -> dict[int, LastWalk]:
    """Per OLT, its latest successful discovery (the last walk of its ONU table)."""
    latest = (sa.select(Execution.olt_id, sa.func.max(Execution.finished_at).label("at"))
              .join(SnmpJob, SnmpJob.id == Execution.job_id)
              .where(Execution.status == SUCCESS, SnmpJob.job_type == "descubrimiento"))
    if olt_ids is not None:
        latest = latest.where(Execution.olt_id.in_(olt_ids))
    latest = latest.group_by(Execution.olt_id).subquery()
    query = (sa.select(Execution.olt_id, Execution.id, Execution.finished_at,
                       Execution.duration_ms)
             .join(latest, sa.and_(latest.c.olt_id == Execution.olt_id,
                                   latest.c.at == Execution.finished_at))
             .where(Execution.status == SUCCESS))
    out: dict[int, LastWalk] = {}
    for olt_id, id_, at, ms in db.session.execute(query):
        out[olt_id] = LastWalk(id_, at, ms)
    return out
