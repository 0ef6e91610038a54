"""The ONU inventory: value rules and bulk writes.

Writes are set-based so an OLT with thousands of ONUs costs a handful of statements, never
a query per ONU:

* one SELECT of the OLT's existing ONUs,
* one multi-row INSERT of the new ones (SQLAlchemy "insertmanyvalues"),
* one executemany UPDATE of the rows whose data changed,
* one executemany UPDATE of the rows a walk did not see (miss counters, absence),
* one set-based UPDATE of `last_seen_at` for every row seen.

Nothing here commits: the caller (the actor) commits together with the execution's final
state, so a worker that lost its execution (`executions.finish` returns False) rolls the
inventory back too. Before reading what exists, `lock_olt` takes the OLT's write lock (a
row lock on PostgreSQL, the database's on SQLite), so two executions on the same OLT write
one after the other.

Value rules (per `Oid` row): the raw SNMP value goes through the OID's `ValueRule`
(`facho.inventory.value_rules`: regex, "no value" sentinels, `formato`, unit, scale, labels);
when the device gives no value (no row, or a sentinel), `keep_previous_value` keeps what the
inventory had, else `default_value` is written, else the field is cleared. A value the rule
refuses counts as `invalid`, is treated as missing, and its first example per OID is kept
for the operator (`facho.inventory.notes.RefusedValues`).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

import sqlalchemy as sa

from facho.extensions import db
from facho.inventory import identity
from facho.inventory.events import detect
from facho.inventory.events import store as event_store
from facho.inventory.events.detect import Change
from facho.inventory.history import store as history
from facho.inventory.history.samples import HISTORY_ONLY, metric_of, storable
from facho.inventory.notes import RefusedValues
from facho.inventory.value_rules import RuleError, ValueRule
from facho.inventory.values import FORMATTERS
from facho.models import Olt, Onu

# espacio -> Onu column (DESIGN 2).
ESPACIO_FIELD = {
    "descripcion": "descripcion",
    "serial": "serial",
    "estado": "status",
    "mac": "mac",
    "plan_onu": "plan",
    "distancia_onu": "distance_km",
    "modelo_onu": "modelo",
    "rx_power": "rx_power",
    "tx_power": "tx_power",
    "causa_caida": "last_down_cause",
}
# The `descubrimiento` column lists the ONUs; its value also feeds a field when its format
# says what it is (Huawei's discovery column is the serial, a ZTE job may discover on the
# ranging table, whose value is the distance). Other formats: the value is not stored.
DISCOVERY_FIELD_BY_FORMATO = {
    "gpon_serial": "serial",
    "distance_km": "distance_km",
    "status_huawei": "status",
    "mac": "mac",
}
FLOAT_FIELDS = frozenset({"distance_km", "rx_power", "tx_power"})
POSITION_FIELDS = ("slot", "port", "onu_id", "name")
# what the events compare (facho.inventory.events.detect), read with every existing row
EVENT_FIELDS = POSITION_FIELDS + ("serial", "status", "last_down_cause", "rx_power")


@functools.cache
def _max_length(field: str) -> int | None:
    return getattr(Onu.__table__.c[field].type, "length", None)


class InventoryConfigError(ValueError):
    """A job's OID settings that can never work; str() is Spanish for the operator."""


@dataclass(frozen=True)
class FieldRule:
    """One of a job's OIDs, ready to apply."""

    oid_id: int
    nombre: str
    oid: str                 # dotted, no leading dot
    espacio: str
    field: str | None        # Onu column written, None = none
    formato: str
    keep_previous: bool
    default: Any             # already converted to the field's type
    rule: ValueRule
    metric: str | None = None   # the history metric its numeric values go to, None = none

    def resolve(self, raw: Any, old: Any) -> tuple[Any, str, str | None]:
        """(value to store, state, reason) with state `value`, `missing` or `invalid`;
        `reason` says in Spanish why a value was refused."""
        state, value, reason = "value", None, None
        if raw is not None:
            outcome = self.rule.apply(raw)
            state, reason = outcome.state, outcome.reason
            if state == "value":
                try:
                    value = (number(outcome.value) if self.espacio == HISTORY_ONLY
                             else coerce(self.field, outcome.value))
                except (ValueError, TypeError):
                    state, reason = "invalid", (f"«{outcome.value}» no es válido para el "
                                                f"campo {self.field}")
        if value is None:
            if state == "value":
                state = "missing"
            if self.keep_previous:
                value = old
            else:
                value = self.default
        return value, state, reason


def coerce(field: str | None, value: Any) -> Any:
    """A formatted value in the type of its Onu column (text cut to the column length)."""
    if value is None or field is None:
        return value
    if field in FLOAT_FIELDS:
        if isinstance(value, (bytes, bytearray)):
            value = value.decode("ascii", "replace")
        return float(value)
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    text = str(value)
    limit = _max_length(field)
    return text[:limit] if limit else text


def number(value: Any) -> float:
    """A value of a history-only (`metrica`) OID as a float; ValueError when it is not one."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("ascii", "replace")
    if isinstance(value, bool):
        raise ValueError("not a number")
    return float(value)


def field_rule(oid, *, discovery: bool = False) -> FieldRule:
    """Build the rule of an `Oid` row; InventoryConfigError when it cannot work."""
    if oid.formato not in FORMATTERS:
        raise InventoryConfigError(
            f"El OID «{oid.nombre}» tiene un formato desconocido «{oid.formato}»; "
            f"válidos: {', '.join(sorted(FORMATTERS))}")
    if oid.espacio == "descubrimiento":
        field = DISCOVERY_FIELD_BY_FORMATO.get(oid.formato) if discovery else None
    else:
        field = ESPACIO_FIELD.get(oid.espacio)
    default = None
    if oid.default_value not in (None, "") and field is not None:
        try:
            default = coerce(field, oid.default_value)
        except ValueError:
            raise InventoryConfigError(
                f"El valor por defecto «{oid.default_value}» del OID «{oid.nombre}» no es "
                f"válido para el campo {field}") from None
    try:
        rule = ValueRule.from_oid(oid)
    except RuleError as exc:
        raise InventoryConfigError(
            f"La regla de valor del OID «{oid.nombre}» no es válida: {exc}") from None
    return FieldRule(oid_id=oid.id, nombre=oid.nombre, oid=oid.oid.strip().strip("."),
                     espacio=oid.espacio, field=field, formato=oid.formato,
                     keep_previous=bool(oid.keep_previous_value), default=default, rule=rule,
                     metric=None if discovery else metric_of(oid.espacio, field, oid.nombre))


def lock_olt(olt_id: int) -> None:
    """Serialise inventory writers of one OLT, before they read what exists.

    PostgreSQL: FOR NO KEY UPDATE on the OLT row, not FOR UPDATE: it still excludes the
    other writers, but not the key-share locks that foreign key checks take on the OLT
    row. With FOR UPDATE, the tick inserting this OLT's next executions (job row locked
    first) and this transaction (OLT row first, then the job's `last_run_at`) deadlocked.

    SQLite: a no-op write takes the database's write lock now (waiting up to the busy
    timeout). pysqlite runs a SELECT outside any transaction, so without it two
    discoveries of one OLT both read "no ONUs", and the second's INSERT broke the
    (olt_id, raw_index) constraint and cost a retry."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(Olt.__table__.c.id)
                           .where(Olt.__table__.c.id == olt_id)
                           .with_for_update(key_share=True))
    else:
        # text, not a Core update: Core would add the table's onupdate columns
        db.session.execute(sa.text("UPDATE olts SET id = id WHERE id = :olt_id"),
                           {"olt_id": olt_id})


def _existing(olt_id: int, fields: Iterable[str], present_only: bool = False):
    t = Onu.__table__
    base = ("id", "raw_index", "name", "present", "consecutive_misses")
    columns = [t.c[f] for f in base] + [t.c[f] for f in dict.fromkeys(fields) if f not in base]
    query = sa.select(*columns).where(t.c.olt_id == olt_id)
    if present_only:
        query = query.where(t.c.present.is_(True))
    return {row.raw_index: row for row in db.session.execute(query)}


def _executemany_update(rows: list[dict]) -> None:
    """UPDATE onus SET <keys> WHERE id = :b_id, one executemany per key set."""
    if not rows:
        return
    t = Onu.__table__
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for rows_ in groups.values():
        db.session.execute(t.update().where(t.c.id == sa.bindparam("b_id")), rows_)


@dataclass
class Discovered:
    """One ONU row found by a discovery walk."""

    raw: str
    slot: int
    port: int
    onu_id: int | None
    name: str
    raw_values: dict[int, Any]   # rule position -> raw SNMP value (absent = no row)
    key: str | None = None       # a string index's text: the ONU's serial


def apply_discovery(olt_id: int, execution_id: int, found: dict[str, Discovered],
                    rules: list[FieldRule], absent_after: int, now: datetime) -> dict:
    """Upsert what a successful, non-empty walk found and count misses for the rest.

    An ONU not seen is marked absent only after `absent_after` consecutive misses, so one
    bad walk never wipes an OLT. A new index whose serial the OLT already holds under an
    index the walk did not show is that ONU, moved (`facho.inventory.identity`). Changes
    of state and presence, and moves, are recorded as events (`facho.inventory.events`);
    the first discovery of an OLT records none (it is the baseline). Returns counts for
    the execution's result_summary."""
    t = Onu.__table__
    written = [(i, r) for i, r in enumerate(rules) if r.field]
    # Two rules may feed one field (e.g. discovery column and a serial column): the later
    # one with a value wins.
    fields = list(dict.fromkeys(r.field for _, r in written))
    lock_olt(olt_id)
    existing = _existing(olt_id, list(EVENT_FIELDS) + fields)
    counts = dict(found=len(found), new=0, returned=0, updated=0, unchanged=0, gone=0,
                  missing_pending=0, moved=0, invalid_values=0)
    refused = RefusedValues()
    new_values: dict[str, dict[str, Any]] = {}
    updates: list[dict] = []
    changes: list[tuple[Any, Change, dict]] = []   # (row or raw index, change, position)
    for raw, onu in found.items():
        old = existing.get(raw)
        values: dict[str, Any] = {"slot": onu.slot, "port": onu.port, "onu_id": onu.onu_id,
                                  "name": onu.name}
        if onu.key is not None:
            # a table keyed by the serial: the key is the serial (a serial column still
            # wins when it has a value)
            values["serial"] = coerce("serial", onu.key)
        for position, rule in written:
            previous = getattr(old, rule.field) if old is not None else None
            raw_value = onu.raw_values.get(position)
            value, state, reason = rule.resolve(raw_value, previous)
            if state == "invalid":
                refused.add(rule.nombre, onu.name, raw_value, reason)
            if rule.field in values and value is None:
                continue  # an earlier rule gave this field a value
            values[rule.field] = value
        if old is None:
            new_values[raw] = values
        else:
            _compare(old, values, counts, updates, changes, execution_id, now)
    moved = identity.moves({raw: v.get("serial") for raw, v in new_values.items()},
                           [old for raw, old in existing.items() if raw not in found])
    for raw, old in moved.items():
        values = dict(new_values.pop(raw), raw_index=raw)
        changes.append((old, detect.moved(old.name or old.raw_index, values["name"]), values))
        counts["moved"] += 1
        _compare(old, values, counts, updates, changes, execution_id, now)
    moved_ids = {old.id for old in moved.values()}
    misses: list[dict] = []
    for raw, old in existing.items():
        if raw in found or not old.present or old.id in moved_ids:
            continue
        count = old.consecutive_misses + 1
        gone = count >= absent_after
        counts["gone" if gone else "missing_pending"] += 1
        misses.append({"b_id": old.id, "consecutive_misses": count, "present": not gone})
        if gone:
            changes.append((old, detect.gone(), {}))
    counts["new"] = len(new_values)
    if new_values:
        db.session.execute(t.insert(), [
            dict(values, olt_id=olt_id, raw_index=raw, present=True, consecutive_misses=0,
                 first_seen_at=now, last_seen_at=now, last_execution_id=execution_id)
            for raw, values in new_values.items()])
        if existing:   # not the OLT's first discovery: a new ONU is news
            changes.extend((raw, detect.appeared(returning=False), values)
                           for raw, values in new_values.items())
    _executemany_update(updates)
    _executemany_update(misses)
    # Every row seen is now present with no misses, and only those: one statement.
    db.session.execute(
        t.update().where(t.c.olt_id == olt_id, t.c.present.is_(True),
                         t.c.consecutive_misses == 0)
        .values(last_seen_at=now))
    counts["absent_total"] = sum(1 for raw, old in existing.items()
                                 if raw not in found and not old.present) + counts["gone"]
    counts["events"] = _record_events(olt_id, execution_id, now, changes)
    _add_refused(counts, refused)
    return counts


def _compare(old, values: dict, counts: dict, updates: list, changes: list,
             execution_id: int, now: datetime) -> None:
    """An existing row seen again (at its own or a new index): its update and its events."""
    changed = any(getattr(old, k) != v for k, v in values.items())   # raw_index: a move
    if not old.present:
        counts["returned"] += 1
        changes.append((old, detect.appeared(returning=True), values))
    elif changed:
        counts["updated"] += 1
    else:
        counts["unchanged"] += 1
    if "status" in values:
        change = detect.state_change(old.status, values["status"],
                                     values.get("last_down_cause", old.last_down_cause))
        if change:
            changes.append((old, change, values))
    if changed or not old.present or old.consecutive_misses:
        updates.append(dict(values, b_id=old.id, present=True, consecutive_misses=0,
                            last_seen_at=now, last_execution_id=execution_id))


def _record_events(olt_id: int, execution_id: int, now: datetime,
                   changes: list[tuple[Any, Change, dict]]) -> int:
    """Write the events; a change on a row just inserted names it by raw index, whose id
    is read back (only for ONUs new on an OLT that already had some: a few rows)."""
    if not changes:
        return 0
    t = Onu.__table__
    new_raws = [item for item, _, _ in changes if isinstance(item, str)]
    ids: dict[str, int] = {}
    for start in range(0, len(new_raws), 500):
        chunk = new_raws[start:start + 500]
        ids.update(db.session.execute(sa.select(t.c.raw_index, t.c.id).where(
            t.c.olt_id == olt_id, t.c.raw_index.in_(chunk))).all())
    rows = []
    for item, change, values in changes:
        onu_id = ids[item] if isinstance(item, str) else item.id
        slot = values.get("slot", getattr(item, "slot", None))
        port = values.get("port", getattr(item, "port", None))
        rows.append(event_store.row(change, onu_id=onu_id, olt_id=olt_id, slot=slot,
                                    port=port, at=now, execution_id=execution_id))
    return event_store.record(rows)


def _add_refused(counts: dict, refused: RefusedValues) -> None:
    counts["invalid_values"] = refused.total
    if refused.total:
        counts["invalid_examples"] = refused.examples()
        counts["warnings"] = [refused.warning()]


def present_onus(olt_id: int) -> dict[str, int]:
    """raw_index -> id of the OLT's present ONUs; ends the read transaction so no
    transaction stays open during the SNMP requests that follow."""
    t = Onu.__table__
    rows = db.session.execute(sa.select(t.c.raw_index, t.c.id)
                              .where(t.c.olt_id == olt_id, t.c.present.is_(True))).all()
    db.session.rollback()
    return {raw: id_ for raw, id_ in rows}


def inventory_size(olt_id: int) -> int:
    t = Onu.__table__
    count = db.session.execute(sa.select(sa.func.count()).select_from(t)
                               .where(t.c.olt_id == olt_id)).scalar_one()
    db.session.rollback()
    return int(count)


def apply_get(olt_id: int, execution_id: int, read: dict[str, dict[int, Any]],
              rules: list[FieldRule], now: datetime, asked: Iterable[str],
              power_event_db: float = detect.POWER_EVENT_DB) -> dict:
    """Write values read for present ONUs (`read`: raw_index -> rule position -> raw value;
    `asked`: every raw_index requested). ONUs that are not present (anymore) are left
    untouched. Every numeric value a rule accepted is appended to the ONU's time series
    (`facho.inventory.history`) at `now`, in one statement; a refused one is counted with
    its example and not stored. A new state, and an rx power at least `power_event_db`
    dB away from the last one, are recorded as events."""
    written = [(i, r) for i, r in enumerate(rules) if r.field]
    fields = list(dict.fromkeys(r.field for _, r in written))
    lock_olt(olt_id)
    existing = _existing(olt_id, list(EVENT_FIELDS) + fields, present_only=True)
    counts = dict(onus=0, onus_updated=0, updated=0, unchanged=0, missing=0,
                  invalid_values=0, readings=0)
    per_oid = {r.nombre: dict(updated=0, unchanged=0, missing=0) for _, r in written}
    refused = RefusedValues()
    updates: list[dict] = []
    changes: list[tuple[Any, Change, dict]] = []
    readings: list[tuple] = []
    history_only = [(i, r) for i, r in enumerate(rules) if not r.field and r.metric]
    for _, r in history_only:
        per_oid[r.nombre] = dict(read=0, missing=0)
    for raw in asked:
        old = existing.get(raw)
        if old is None:
            continue  # absent or deleted since the list was read
        counts["onus"] += 1
        got = read.get(raw, {})
        values: dict[str, Any] = {}
        for position, rule in written:
            previous = getattr(old, rule.field) if rule.field not in values else values[rule.field]
            raw_value = got.get(position)
            value, state, reason = rule.resolve(raw_value, previous)
            if state == "invalid":
                refused.add(rule.nombre, old.name or raw, raw_value, reason)
            if state != "value":
                counts["missing"] += 1
                per_oid[rule.nombre]["missing"] += 1
            elif value == getattr(old, rule.field):
                counts["unchanged"] += 1
                per_oid[rule.nombre]["unchanged"] += 1
            else:
                counts["updated"] += 1
                per_oid[rule.nombre]["updated"] += 1
            if state == "value" and rule.metric and storable(value):
                readings.append((old.id, rule.metric, now, value))
            values[rule.field] = value
        for position, rule in history_only:
            raw_value = got.get(position)
            value, state, reason = rule.resolve(raw_value, None)
            if state == "invalid":
                refused.add(rule.nombre, old.name or raw, raw_value, reason)
            if state == "value" and storable(value):
                readings.append((old.id, rule.metric, now, value))
                per_oid[rule.nombre]["read"] += 1
            else:
                per_oid[rule.nombre]["missing"] += 1
        if "status" in values:
            change = detect.state_change(old.status, values["status"],
                                         values.get("last_down_cause", old.last_down_cause))
            if change:
                changes.append((old, change, {}))
        if "rx_power" in values:
            change = detect.power_change(old.rx_power, values["rx_power"], power_event_db)
            if change:
                changes.append((old, change, {}))
        if any(getattr(old, k) != v for k, v in values.items()):
            counts["onus_updated"] += 1
            updates.append(dict(values, b_id=old.id, last_execution_id=execution_id))
    _executemany_update(updates)
    counts["events"] = _record_events(olt_id, execution_id, now, changes)
    counts["readings"] = history.append(readings)
    counts["per_oid"] = per_oid
    _add_refused(counts, refused)
    return counts

