"""`flask facho demo`: a simulated Huawei OLT on 127.0.0.1 registered with a discovery job
and a get job, so a new user sees the inventory, powers included, within a minute of
`make demo`.

At start it runs the discovery now (or waits for the one already running), and only when
that has ended the rx-power read: read before the first discovery there is no ONU to read
it for. Then it stays in the foreground serving the simulated OLT (snmpsim) until it is
stopped (honcho runs it as the `olt` process of Procfile.demo): SIGTERM or Ctrl-C stop
snmpsim, remove its data folder and exit 0 without a traceback.
"""
from __future__ import annotations

import shutil
import signal
import tempfile
import time
from pathlib import Path

import click
import sqlalchemy as sa

from facho.ops.ctrl_c import honour_ctrl_c
from facho.extensions import db
from facho.labels import STATUS_NAMES
from facho.models import (FINAL_STATUSES, SUCCESS, Brand, Execution, Oid, Olt, SnmpJob,
                          SnmpJobHost, utcnow)
from facho.executions.manual_run import run_jobs_now
from facho.ops.olt_sim import SnmpSim, write_snmprec
from facho.scheduling.schedule import Schedule, first_run_at
from facho.scheduling.sql import active_condition

DEMO_OLT = "OLT-DEMO"
DEMO_COMMUNITY = "demo"
DISCOVERY_JOB = "Demo: descubrimiento de ONUs"
GET_JOB = "Demo: potencia RX"
DISCOVERY_OIDS = ("Huawei ONT descubrimiento", "Huawei ONT descripción", "Huawei ONT estado",
                  "Huawei ONT causa de caída")
GET_OIDS = ("Huawei ONT potencia RX",)
# Status and optical power are separate jobs with their own intervals (issue 15): optical
# reads cost the OLT the most, and vendors advise reading them rarely.
JOB_NOTES = {
    "descubrimiento": "Creada por `flask facho demo`. Descubre las ONUs y lee su estado; la "
                      "potencia óptica va en otra tarea, con su propio intervalo.",
    "get": "Creada por `flask facho demo`. La potencia óptica va en una tarea aparte del "
           "estado: en OLTs reales léala cada 15 a 60 minutos (ZTE recomienda no más de una "
           "vez por hora); la demostración la lee cada 5 minutos.",
}


def _oids(names) -> list[Oid]:
    found = db.session.execute(db.select(Oid).where(Oid.nombre.in_(names))).scalars().all()
    if len(found) != len(names):
        raise click.ClickException("faltan OIDs de Huawei: ejecute primero `flask facho seed`")
    return found


def register_demo(port: int) -> tuple[SnmpJob, SnmpJob]:
    """Create (or update) the demo OLT and its two jobs; idempotent."""
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
                          descripcion=JOB_NOTES[job_type])
            schedule = Schedule.build(interval_raw=interval, anchor=now)
            # The discovery's first slot is now; the read's is one interval later: the demo
            # runs it itself right after the first discovery has filled the inventory.
            job.next_run_at = first_run_at(
                schedule, now if job_type == "descubrimiento" else now + schedule.interval)
            job.oids = _oids(oid_names)
            db.session.add(job)
            db.session.flush()
            db.session.add(SnmpJobHost(job=job, olt=olt))
        jobs.append(job)
    db.session.commit()
    return jobs[0], jobs[1]


class _Stop(Exception):
    """SIGTERM (honcho, systemd) or Ctrl-C: stop serving."""


def _raise_stop(signum, frame):
    raise _Stop()


def _active_execution(job: SnmpJob, olt_id: int) -> int | None:
    """A queued or running execution of `job` on the OLT (manual or scheduled), if any."""
    db.session.expire_all()
    return db.session.execute(
        sa.select(Execution.id).where(Execution.job_id == job.id, Execution.olt_id == olt_id,
                                      active_condition(utcnow()))
        .order_by(Execution.id).limit(1)).scalar_one_or_none()


def run_now_or_join(job: SnmpJob, olt_id: int) -> int | None:
    """Run `job` now on the demo OLT, or join the execution already queued or running for
    it (a slot the scheduler sent, a run left from the last start): that is no reason to
    warn. Returns the execution to wait for; None (after saying why) when none runs."""
    running = _active_execution(job, olt_id)
    if running is None:
        report = run_jobs_now([job.id], None)
        if report.error:
            click.echo(f"error: {report.error}", err=True)
            return None
        if report.created:
            return report.created[0]
        running = _active_execution(job, olt_id)   # queued by the scheduler meanwhile
    if running is not None:
        click.echo(f"{job.nombre}: ya en curso (ejecución #{running}), se espera a que termine.")
    return running


def wait_final(execution_id: int, timeout_s: float, sim) -> Execution | None:
    """The execution once it has ended, or None after `timeout_s` (or if snmpsim died)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and sim.process is not None \
            and sim.process.poll() is None:
        db.session.expire_all()
        row = db.session.get(Execution, execution_id)
        if row is None or row.status in FINAL_STATUSES:
            return row
        time.sleep(0.5)
    return None


def _say_result(job: SnmpJob, row: Execution | None, timeout_s: float) -> None:
    if row is None:
        click.echo(f"{job.nombre}: sin terminar tras {timeout_s:g} s: ¿está el worker en marcha?"
                   " (vea Ejecuciones en el panel)")
    elif row.status == SUCCESS:
        click.echo(f"{job.nombre}: {STATUS_NAMES[SUCCESS].lower()}.")
    else:
        click.echo(f"{job.nombre}: {STATUS_NAMES[row.status].lower()}: "
                   f"{row.error_message or 'sin detalle'}")


FIRST_RUN_TIMEOUT_S = 120.0


@click.command("demo")
@click.option("--port", type=click.IntRange(1024, 65535), default=16161, show_default=True,
              help="Puerto UDP de la OLT simulada.")
@click.option("--onus", type=click.IntRange(1, 20000), default=256, show_default=True,
              help="Cuántas ONUs tiene.")
def demo(port: int, onus: int) -> None:
    """Sirve una OLT simulada y la registra con una tarea de descubrimiento y una de lectura."""
    honour_ctrl_c()
    discovery, reading = register_demo(port)
    olt_id = db.session.execute(
        sa.select(Olt.id).filter_by(abreviatura=DEMO_OLT)).scalar_one()
    # From here on SIGTERM unwinds like Ctrl-C, so the cleanup below always runs (snmpsim's
    # own wait must not be re-entered from a signal handler: it then never reaps it).
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    folder = Path(tempfile.mkdtemp(prefix="facho-demo-olt-"))
    sim = SnmpSim(folder, port)
    try:
        write_snmprec(folder / f"{DEMO_COMMUNITY}.snmprec", "huawei", onus, seed=7)
        try:
            sim.start(probe_community=DEMO_COMMUNITY)
        except (FileNotFoundError, RuntimeError) as exc:
            raise click.ClickException(
                f"no se pudo iniciar la OLT simulada ({exc}); instale snmpsim con "
                "scripts/install-snmpsim.sh") from None
        click.echo(f"OLT simulada {DEMO_OLT} con {onus} ONUs en 127.0.0.1:{port}. "
                   "El inventario aparece en el panel, menú ONUs.")
        # discovery first, then the read: the powers belong to the ONUs it found
        for job in (discovery, reading):
            execution_id = run_now_or_join(job, olt_id)
            if execution_id is None:   # e.g. Redis down: nothing will walk the OLT
                raise SystemExit(1)
            _say_result(job, wait_final(execution_id, FIRST_RUN_TIMEOUT_S, sim),
                        FIRST_RUN_TIMEOUT_S)
        click.echo("La OLT simulada sigue en servicio (Ctrl-C para detener).")
        code = sim.process.wait()
        raise click.ClickException(f"la OLT simulada (snmpsim) terminó sola (código {code})")
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sim.stop()
        shutil.rmtree(folder, ignore_errors=True)
    click.echo("OLT simulada detenida.")
