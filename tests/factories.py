"""Small builders for domain rows used across tests."""
from facho.extensions import db
from facho.models import Brand, Olt, SnmpJob, SnmpJobHost


def brand(nombre="Huawei"):
    found = Brand.query.filter_by(nombre=nombre).one_or_none()
    if found:
        return found
    row = Brand(nombre=nombre)
    db.session.add(row)
    db.session.flush()
    return row


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
