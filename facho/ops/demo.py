"""`flask facho demo`: a simulated Huawei OLT on 127.0.0.1 registered with a discovery job
and a get job, so a new user sees the inventory fill within a minute of `make demo`.

The command stays in the foreground serving the simulated OLT (snmpsim) until it is
stopped (honcho runs it as the `olt` process of Procfile.demo).
"""
from __future__ import annotations

import signal
import tempfile
from pathlib import Path

import click

from facho.extensions import db
from facho.models import Brand, Oid, Olt, SnmpJob, SnmpJobHost, utcnow

DEMO_OLT = "OLT-DEMO"
DEMO_COMMUNITY = "demo"
DISCOVERY_JOB = "Demo: descubrimiento de ONUs"
GET_JOB = "Demo: potencia RX"
DISCOVERY_OIDS = ("Huawei ONT descubrimiento", "Huawei ONT descripción", "Huawei ONT estado")
GET_OIDS = ("Huawei ONT potencia RX",)


def _oids(names) -> list[Oid]:
    found = db.session.execute(db.select(Oid).where(Oid.nombre.in_(names))).scalars().all()
    if len(found) != len(names):
        raise click.ClickException("faltan OIDs de Huawei: ejecute primero `flask facho seed`")
    return found


def register_demo(port: int) -> tuple[SnmpJob, SnmpJob]:
    """Create (or update) the demo OLT and its two jobs; idempotent."""
    from facho.scheduling.schedule import Schedule, first_run_at
    huawei = db.session.execute(db.select(Brand).filter_by(nombre="Huawei")).scalar_one_or_none()
    if huawei is None:
        raise click.ClickException("falta la marca Huawei: ejecute primero `flask facho seed`")
    olt = db.session.execute(db.select(Olt).filter_by(abreviatura=DEMO_OLT)).scalar_one_or_none()
    if olt is None:
        olt = Olt(abreviatura=DEMO_OLT, brand=huawei, modelo="MA5800 (simulada)",
                  descripcion="OLT simulada en 127.0.0.1 para la demostración")
        db.session.add(olt)
    olt.ip_address, olt.snmp_port, olt.comunidad = "127.0.0.1", port, DEMO_COMMUNITY
    jobs = []
    for nombre, job_type, interval, oid_names in (
            (DISCOVERY_JOB, "descubrimiento", "1m", DISCOVERY_OIDS),
            (GET_JOB, "get", "5m", GET_OIDS)):
        job = db.session.execute(db.select(SnmpJob).filter_by(nombre=nombre)).scalar_one_or_none()
        if job is None:
            now = utcnow().replace(microsecond=0)
            job = SnmpJob(nombre=nombre, brand=huawei, job_type=job_type, interval_raw=interval,
                          anchor_at=now, max_retries=1, retry_delay_seconds=5,
                          descripcion="Creada por `flask facho demo`")
            job.next_run_at = first_run_at(Schedule.build(interval_raw=interval, anchor=now), now)
            job.oids = _oids(oid_names)
            db.session.add(job)
            db.session.flush()
            db.session.add(SnmpJobHost(job=job, olt=olt))
        jobs.append(job)
    db.session.commit()
    return jobs[0], jobs[1]


@click.command("demo")
@click.option("--port", type=click.IntRange(1024, 65535), default=16161, show_default=True)
@click.option("--onus", type=click.IntRange(1, 20000), default=256, show_default=True)
def demo(port: int, onus: int) -> None:
    """Sirve una OLT simulada y la registra con una tarea de descubrimiento y una de lectura."""
    from facho.executions.manual_run import run_jobs_now
    from facho.ops.olt_sim import SnmpSim, write_snmprec

    discovery, _ = register_demo(port)
    folder = Path(tempfile.mkdtemp(prefix="facho-demo-olt-"))
    write_snmprec(folder / f"{DEMO_COMMUNITY}.snmprec", "huawei", onus, seed=7)
    sim = SnmpSim(folder, port)
    try:
        sim.start(probe_community=DEMO_COMMUNITY)
    except (FileNotFoundError, RuntimeError) as exc:
        raise click.ClickException(
            f"no se pudo iniciar la OLT simulada ({exc}); instale snmpsim con "
            "scripts/install-snmpsim.sh")
    report = run_jobs_now([discovery.id], None)
    for category, text in report.messages():
        click.echo(f"{category}: {text}", err=category == "error")
    if report.error:  # e.g. Redis down: nothing will walk the OLT, so do not serve it forever
        sim.stop()
        raise SystemExit(1)
    click.echo(f"OLT simulada {DEMO_OLT} con {onus} ONUs en 127.0.0.1:{port}. "
               "El inventario aparece en el panel, menú ONUs.")
    signal.signal(signal.SIGTERM, lambda *_: sim.stop())
    try:
        sim.process.wait()
    except (KeyboardInterrupt, AttributeError):
        pass
    finally:
        sim.stop()
