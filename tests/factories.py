"""The one place tests build domain rows.

Three ways in, by what the caller already has:

- inside an app context, rows back (flushed, not committed): `brand`, `olt`, `job`;
- inside an app context on the seeded catalog (`seed_catalog`), ids back (committed):
  `make_olt`, `make_job`, `new_execution`, `int_discovery_oid` (OLTs on 127.0.0.1 that the
  SNMP tests' agents answer for), `make_formula`, `make_oid` (a vendor configured by hand);
- with only the app (each opens its own app context), ids back (committed): `add`,
  `add_brand`, `add_olt`, `add_oid`, `add_job`, `add_execution` (the panel tests' rows),
  `add_onus` (ONUs with readings), `add_onu_event`, `add_readings`.
"""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from facho.extensions import db
from facho.inventory.history import samples as history_samples
from facho.models import (Brand, Execution, IndexFormula, Oid, Olt, Onu, OnuEvent,
                          OnuMetricDay, SnmpJob, SnmpJobHost)

UTC = timezone.utc
COMMUNITY = "c0munidad-s3creta-xyz"
HW = "1.3.6.1.4.1.2011.6.128.1.1.2"


# --- inside an app context: rows ----------------------------------------------------------

def brand(nombre="Huawei"):
    """The brand called `nombre` (created when the catalog does not have it yet)."""
    found = Brand.query.filter_by(nombre=nombre).one_or_none()
    if found:
        return found
    row = Brand(nombre=nombre)
    db.session.add(row)
    db.session.flush()
    return row


def oid(nombre: str) -> Oid:
    """The catalog's OID row called `nombre` (it must exist)."""
    return db.session.execute(db.select(Oid).filter_by(nombre=nombre)).scalar_one()


def olt(abreviatura, *, marca="Huawei", ip="127.0.0.1", port=161, comunidad="public",
        enabled=True, **extra):
    row = Olt(abreviatura=abreviatura, ip_address=ip, snmp_port=port, comunidad=comunidad,
              brand=brand(marca), habilitar_olt=enabled, **extra)
    db.session.add(row)
    db.session.flush()
    return row


def job(nombre, *, olts=(), marca="Huawei", job_type="descubrimiento", interval_raw="5m",
        enabled=True, host_enabled=True, **extra):
    row = SnmpJob(nombre=nombre, brand=brand(marca), job_type=job_type,
                  interval_raw=interval_raw, enabled=enabled, **extra)
    db.session.add(row)
    for o in olts:
        db.session.add(SnmpJobHost(job=row, olt=o, enabled=host_enabled))
    db.session.flush()
    return row


# --- inside an app context, on the seeded catalog: ids ------------------------------------

def seed_catalog() -> None:
    """Brands, the shipped vendor OIDs and index formulas (as `flask facho seed`)."""
    from facho.inventory.seed import seed
    seed()
    db.session.commit()


def make_olt(abreviatura: str, port: int, community: str, marca: str = "Huawei",
             **fields) -> int:
    """An OLT on 127.0.0.1:`port` (a test agent), committed."""
    row = olt(abreviatura, marca=marca, ip=fields.pop("ip_address", "127.0.0.1"), port=port,
              comunidad=community, enabled=fields.pop("habilitar_olt", True), **fields)
    db.session.commit()
    return row.id


def make_job(nombre: str, oid_names: list[str], marca: str = "Huawei",
             job_type: str = "descubrimiento", olt_ids: tuple[int, ...] = (),
             **fields) -> int:
    """A job reading the catalog OIDs `oid_names` on the OLTs `olt_ids`, committed."""
    fields.setdefault("interval_raw", "1d")
    row = SnmpJob(nombre=nombre, brand=brand(marca), job_type=job_type, **fields)
    row.oids = [oid(n) for n in oid_names]
    db.session.add(row)
    for olt_id in olt_ids:
        db.session.add(SnmpJobHost(job=row, olt_id=olt_id))
    db.session.commit()
    return row.id


def new_execution(job_id: int, olt_id: int, scheduled_for=None) -> int:
    """A PENDING execution (manual when `scheduled_for` is None: at most one active)."""
    host = db.session.execute(db.select(SnmpJobHost).filter_by(
        job_id=job_id, olt_id=olt_id)).scalar_one()
    execution = Execution(job_id=job_id, olt_id=olt_id, job_host_id=host.id,
                          scheduled_for=scheduled_for)
    db.session.add(execution)
    db.session.commit()
    return execution.id


def int_discovery_oid(nombre: str = "Descubrimiento lento") -> str:
    """An OID row for the slow fake agent's table (formato int)."""
    db.session.add(Oid(nombre=nombre, oid=f"{HW}.43.1.3", brand=brand("Huawei"),
                       espacio="descubrimiento", formato="int"))
    db.session.commit()
    return nombre


# --- with only the app: each in its own app context, ids ----------------------------------

def add(app, obj) -> int:
    with app.app_context():
        db.session.add(obj)
        db.session.commit()
        return obj.id


def add_brand(app, nombre="Huawei") -> int:
    with app.app_context():
        row = brand(nombre)
        db.session.commit()
        return row.id


def add_olt(app, brand_id, abreviatura="OLT-1", **kw) -> int:
    kw.setdefault("ip_address", "10.0.0.1")
    kw.setdefault("comunidad", COMMUNITY)
    return add(app, Olt(abreviatura=abreviatura, brand_id=brand_id, **kw))


def add_oid(app, brand_id, nombre="Serie", oid="1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3",
            espacio="serial") -> int:
    return add(app, Oid(nombre=nombre, oid=oid, brand_id=brand_id, espacio=espacio))


def add_job(app, brand_id, olt_ids=(), nombre="Descubrimiento", **kw) -> int:
    kw.setdefault("job_type", "descubrimiento")
    if "cron_expr" not in kw:
        kw.setdefault("interval_raw", "5m")
    kw.setdefault("anchor_at", datetime(2024, 1, 1, tzinfo=UTC))
    kw.setdefault("next_run_at", datetime(2030, 1, 1, tzinfo=UTC))
    row = SnmpJob(nombre=nombre, brand_id=brand_id, **kw)
    row.job_hosts = [SnmpJobHost(olt_id=olt_id) for olt_id in olt_ids]
    return add(app, row)


_slots = itertools.count()


def add_execution(app, job_id, olt_id, status="PENDING", **kw) -> int:
    """A scheduled execution (its own slot, so several may be active for one pair)."""
    kw.setdefault("scheduled_for", datetime(2030, 1, 1, tzinfo=UTC)
                  + timedelta(minutes=next(_slots)))
    with app.app_context():
        host = db.session.query(SnmpJobHost).filter_by(job_id=job_id, olt_id=olt_id).first()
    kw.setdefault("job_host_id", host.id if host else None)
    return add(app, Execution(job_id=job_id, olt_id=olt_id, status=status, **kw))


def add_onus(app, olt_id, count, *, present=True, readings=0, slot=1, port=1, first=1,
             last_seen_at=None, read_at=None, **kw) -> list[int]:
    """`count` ONUs of one OLT at slot/port, ONU ids `first`.. (name "0/slot/port:n", raw
    index "slot.port.n"), each with `readings` days of rx_power history (one day row with
    one sample each, on the days before `read_at`, default now); their ids."""
    with app.app_context():
        rows = [Onu(olt_id=olt_id, raw_index=f"{slot}.{port}.{n}", slot=slot, port=port,
                    onu_id=n, name=f"0/{slot}/{port}:{n}", present=present,
                    last_seen_at=last_seen_at, **kw)
                for n in range(first, first + count)]
        db.session.add_all(rows)
        db.session.flush()
        at = read_at or datetime.now(UTC)
        for row in rows:
            db.session.add_all([OnuMetricDay(onu_id=row.id, metric="rx_power",
                                             day=(at - timedelta(days=i)).date(),
                                             samples=history_samples.pack(0, -20.5 - i))
                                for i in range(readings)])
        db.session.commit()
        return [row.id for row in rows]


def add_many_onus(app, olt_id, count, batch=10_000) -> None:
    """`count` present ONUs of one OLT written in Core batches (no ORM object per row, so
    the test process does not hold them; for exports and lists at scale). Serial
    HWTC + 8 hex digits, 128 ONUs a PON."""
    table = Onu.__table__
    now = datetime.now(UTC)
    with app.app_context():
        for start in range(0, count, batch):
            db.session.execute(table.insert(), [
                dict(olt_id=olt_id, raw_index=f"{n // 2048}.{n // 128 % 16}.{n % 128}",
                     slot=n // 2048, port=n // 128 % 16, onu_id=n % 128,
                     name=f"0/{n // 2048}/{n // 128 % 16}:{n % 128}", serial=f"HWTC{n:08X}",
                     descripcion=f"Cliente {n}", status="online", present=True,
                     consecutive_misses=0, rx_power=-20.5, first_seen_at=now)
                for n in range(start, min(start + batch, count))])
            db.session.commit()


def add_onu_event(app, onu_id, at, kind="estado", old="en línea", new="desconectada",
                  cause=None) -> int:
    """An event of the ONU `onu_id` at its current OLT and PON, at `at` (UTC)."""
    with app.app_context():
        onu = db.session.get(Onu, onu_id)
        return add(app, OnuEvent(onu_id=onu_id, olt_id=onu.olt_id, slot=onu.slot,
                                 port=onu.port, at=at, kind=kind, old_value=old,
                                 new_value=new, cause=cause))


def add_readings(app, onu_id, metric, readings) -> None:
    """Store [(UTC instant, value)] in the ONU's history, as a get execution does."""
    from facho.inventory.history import store
    with app.app_context():
        store.append([(onu_id, metric, at, value) for at, value in readings])
        db.session.commit()
def add_incident(app, olt_id, **kw) -> int:
    """An incident on the OLT `olt_id` (a PON outage opened now unless told otherwise)."""
    from facho.models import Incident
    kw.setdefault("kind", "pon_caida")
    kw.setdefault("dedupe_key", f"k{datetime.now(UTC).timestamp()}{kw.get('title', '')}")
    kw.setdefault("title", "PON 0/1/1 de OLT-NORTE: corte de fibra")
    kw.setdefault("opened_at", datetime.now(UTC))
    return add(app, Incident(olt_id=olt_id, **kw))


def add_run_selection(app) -> dict[str, int]:
    """The "Ejecutar" tests' selection: one enabled job on two OLTs (one disabled), one
    disabled job, one job without OLTs; ids by role."""
    brand = add_brand(app)
    up = add_olt(app, brand, "OLT-UP")
    down = add_olt(app, brand, "OLT-DOWN", habilitar_olt=False)
    return {
        "enabled": add_job(app, brand, [up, down], nombre="descubrir-norte"),
        "disabled": add_job(app, brand, [up], nombre="descubrir-sur", enabled=False),
        "orphan": add_job(app, brand, [], nombre="leer-potencia", job_type="get"),
        "up": up, "down": down,
    }


# --- vendor onboarding by hand (formulas and OIDs with value rules): ids -------------------

def make_formula(nombre: str, params: dict, marca: str = "Huawei", modelo: str = "") -> int:
    """An index formula of brand `marca` (created when missing), committed. `params` as the
    formula form stores them (`facho.inventory.decoders`)."""
    row = IndexFormula(nombre=nombre, brand=brand(marca), modelo=modelo, kind=params["kind"],
                       params=params)
    db.session.add(row)
    db.session.commit()
    return row.id


def make_oid(nombre: str, oid_text: str, espacio: str, marca: str = "Huawei",
             formato: str = "text", **rule) -> int:
    """A catalog OID of brand `marca` with its value rule (`regex`, `sin_valor`, `unidad`,
    `escala`, `desplazamiento`, `decimales`, `etiquetas`, `keep_previous_value`,
    `default_value`), committed."""
    row = Oid(nombre=nombre, oid=oid_text, brand=brand(marca), espacio=espacio,
              formato=formato, **rule)
    db.session.add(row)
    db.session.commit()
    return row.id


# --- REST API tokens ------------------------------------------------------------------------

def add_token(app, user_id: int, scopes=("lectura",), name="integración", **fields
              ) -> tuple[int, str]:
    """An API token of `user_id` (facho.api.tokens.create), committed: (id, secret)."""
    from facho.api import tokens
    with app.app_context():
        row, secret = tokens.create(user_id, name, scopes, fields.pop("expires_at", None))
        for key, value in fields.items():
            setattr(row, key, value)
        db.session.commit()
        return row.id, secret
