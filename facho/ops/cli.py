"""`flask facho …`: user management, seed data and operations commands.

Errors end with one clear line on stderr and a non-zero exit, never a traceback.
"""
from __future__ import annotations

import json
import os
import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from facho import redis_conn
from facho.executions.manual_run import run_jobs_now
from facho.executions.olt_limiter import OltLimiter
from facho.extensions import db
from facho.inventory.seed import seed, seed_summary
from facho.models import Olt, SnmpJob, User
from facho.ops import importer_v2 as importer
from facho.ops import status as ops
from facho.ops.demo import demo
from facho.ops.health import connection_lost, schema_missing
from facho.ops.olt_sim import simulate_olt
from facho.ops.worker_restart import restart_workers
from facho.redis_conn import get_redis
from facho.scheduling.reconcile import reconcile
from facho.validation import validate_timezone, validate_username

DATABASE_DOWN = ("la base de datos no responde: verifique que PostgreSQL esté activo y que "
                 "DATABASE_URL sea correcta")
SCHEMA_MISSING = ("la base de datos no tiene las tablas de Facho: ejecute `flask db upgrade` "
                  "(make run lo hace)")
REDIS_DOWN = "Redis no responde: verifique que Redis esté activo y que REDIS_URL sea correcta"
EMBEDDED_REDIS_DOWN = ("el Redis embebido ({socket}) no está activo: Facho no está en marcha "
                       "en esta carpeta; inícielo con `make run` (o solo Redis con "
                       "`flask facho embedded-redis start`)")


def redis_down_message() -> str:
    """What to say when Redis does not answer: with the embedded one, that Facho is not
    running (a command never starts it: it would stop with the command, taking any message
    sent to it along)."""
    from flask import current_app
    config = current_app.config["FACHO"]
    if config.redis_url is None:
        return EMBEDDED_REDIS_DOWN.format(socket=config.embedded_redis_socket)
    return REDIS_DOWN


def fail(message: str, code: int = 1):
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


# --- click's own words in Spanish ----------------------------------------------------------

_HELP_WORDS = (   # (English click prints, Spanish) in the help pages' option table
    ("Show this message and exit.", "Muestra esta ayuda y termina."),
    ("[default: ", "[por defecto: "),
    ("default: ", "por defecto: "),
    ("[required]", "[obligatorio]"),
)
_METAVARS = (("INTEGER RANGE", "ENTERO"), ("FLOAT RANGE", "NÚMERO"), ("INTEGER", "ENTERO"),
             ("FLOAT", "NÚMERO"), ("TEXT", "TEXTO"), ("DIRECTORY", "CARPETA"),
             ("PATH", "RUTA"), ("FILENAME", "ARCHIVO"), ("BOOLEAN", "SÍ/NO"))
_USAGE_WORDS = (("[OPTIONS]", "[OPCIONES]"), ("COMMAND", "COMANDO"), ("[ARGS]", "[ARGUMENTOS]"))


def _replace_all(text: str, pairs) -> str:
    for english, spanish in pairs:
        text = text.replace(english, spanish)
    return text


class SpanishHelpFormatter(click.HelpFormatter):
    """click's help page with its fixed words ("Usage:", "Options", "Show this message and
    exit.", metavars, "[default: …]") in Spanish; our own help texts are Spanish already."""
    SECTIONS = {"Options": "Opciones", "Commands": "Comandos",
                "Positional arguments": "Argumentos"}

    def write_usage(self, prog, args="", prefix=None):
        super().write_usage(prog, _replace_all(args, _USAGE_WORDS),
                            "Uso: " if prefix is None else prefix)

    def section(self, name):
        return super().section(self.SECTIONS.get(name, name))

    def write_dl(self, rows, *args, **kwargs):
        rows = [(_replace_all(term, _METAVARS), _replace_all(text, _HELP_WORDS))
                for term, text in rows]
        super().write_dl(rows, *args, **kwargs)


class SpanishContext(click.Context):
    formatter_class = SpanishHelpFormatter


class FachoGroup(AppGroup):
    """Every `flask facho` command: a database or Redis outage met anywhere inside a
    command ends with one line saying what is down, not a traceback; help pages are in
    Spanish. No command starts the embedded Redis (`embedded-redis start` aside)."""
    context_class = SpanishContext

    def add_command(self, cmd, name=None):
        cmd.context_class = SpanishContext      # commands defined elsewhere too
        super().add_command(cmd, name)

    def invoke(self, ctx):
        import redis
        from sqlalchemy import exc as sa_exc
        redis_conn.autostart_embedded(False)
        try:
            return super().invoke(ctx)
        except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError,
                sa_exc.ProgrammingError) as exc:
            if schema_missing(exc):
                fail(SCHEMA_MISSING)
            if isinstance(exc, sa_exc.ProgrammingError) or not connection_lost(exc):
                # a bug or a deadlock, not an outage: its class, for the report
                fail(f"error de la base de datos ({type(getattr(exc, 'orig', exc)).__name__});"
                     " avise al administrador")
            fail(DATABASE_DOWN)
        except (redis.RedisError, ConnectionRefusedError, FileNotFoundError):
            fail(redis_down_message())
        except click.BadParameter as exc:     # click's own words are English
            fail(spanish_bad_parameter(exc), 2)
        except click.Abort:                    # a prompt left unanswered (Ctrl-C, no input)
            fail("operación cancelada: no se ingresó lo que se pedía")
        except click.NoSuchOption as exc:
            fail(f"opción desconocida: {exc.option_name} (vea --help)", 2)
        except click.UsageError as exc:
            fail(f"uso incorrecto ({exc.format_message()}); vea --help", 2)
        except click.ClickException as exc:    # a command's own Spanish message
            fail(exc.format_message(), exc.exit_code)


def spanish_bad_parameter(exc: click.BadParameter) -> str:
    """`-n: debe ser un número entero entre 1 y 1000`: the option and what it takes."""
    param = exc.param
    if param is None:
        return "valor inválido"
    name = param.opts[0] if isinstance(param, click.Option) else param.human_readable_name
    if isinstance(exc, click.MissingParameter):
        return f"falta {name}"
    kind = param.type
    if isinstance(kind, click.Choice):
        return f"{name}: valor inválido; use uno de: {', '.join(map(str, kind.choices))}"
    if isinstance(kind, click.IntRange):
        return (f"{name}: debe ser un número entero entre {kind.min} y {kind.max}"
                if kind.min is not None and kind.max is not None else
                f"{name}: número entero fuera de rango")
    if kind is click.INT:
        return f"{name}: debe ser un número entero"
    return f"{name}: valor inválido"


facho_cli = FachoGroup("facho", help="Operaciones de Facho.")


@facho_cli.command("create-user")
@click.argument("username", metavar="USUARIO")
@click.option("--staff/--no-staff", default=None,
              help="Acceso al panel (al crear: no; con --update: se conserva si no se indica).")
@click.option("--password-env", default="FACHO_PASSWORD", show_default=True,
              help="Variable de entorno con la contraseña (si no, se pide).")
@click.option("--update/--no-update", default=False, help="Cambiar la contraseña si existe.")
def create_user(username: str, staff: bool, password_env: str, update: bool):
    """Crea un usuario (contraseña de $FACHO_PASSWORD o pedida); con --update cambia la de uno existente."""
    try:
        username = validate_username(username)
    except ValueError as exc:
        fail(str(exc), 2)
    password = os.environ.get(password_env) or click.prompt(
        "Contraseña", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        fail("la contraseña debe tener al menos 8 caracteres", 2)
    user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()
    if user and not update:
        fail(f"el usuario '{username}' ya existe (use --update para cambiar su contraseña)")
    if user is None:
        user = User(username=username)
        db.session.add(user)
    user.set_password(password)
    if staff is not None or user.is_staff is None:
        user.is_staff = bool(staff)      # a password reset keeps the user's panel access
    user.active = True
    db.session.commit()
    click.echo(f"usuario '{username}' {'actualizado' if update else 'creado'}"
               f"{' (staff)' if user.is_staff else ''}")


@facho_cli.command("seed")
def seed_command():
    """Carga marcas, OIDs de fabricantes y fórmulas de índice (solo agrega lo que falta)."""
    counts = seed()
    db.session.commit()
    click.echo(seed_summary(counts))


@facho_cli.command("ensure-admin")
def ensure_admin():
    """Crea un usuario staff si no hay ninguno y muestra su contraseña una vez.

    Usuario de $FACHO_ADMIN_USER (por defecto admin), contraseña de $FACHO_ADMIN_PASSWORD
    o generada. Si ya hay un staff no cambia nada (tampoco su contraseña).
    """
    import secrets
    existing = db.session.execute(
        db.select(User.username).filter_by(is_staff=True).order_by(User.id)).scalars().all()
    if existing:
        click.echo(f"usuario staff existente ({', '.join(existing[:3])}"
                   f"{'…' if len(existing) > 3 else ''}): no se crea otro")
        if os.environ.get("FACHO_ADMIN_PASSWORD") or os.environ.get("FACHO_ADMIN_USER"):
            name = os.environ.get("FACHO_ADMIN_USER") or existing[0]
            click.echo("aviso: FACHO_ADMIN_USER / FACHO_ADMIN_PASSWORD se ignoran porque ya "
                       "existe un usuario staff; para cambiar una contraseña: "
                       f"FACHO_PASSWORD='…' flask facho create-user {name} --update")
        return
    username = os.environ.get("FACHO_ADMIN_USER", "admin")
    password = os.environ.get("FACHO_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    user = User(username=username, is_staff=True, active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo("=" * 60)
    click.echo(f"Usuario staff creado: {username}  contraseña: {password}")
    click.echo("Guárdela ahora: no se volverá a mostrar.")
    click.echo("=" * 60)


@facho_cli.command("embedded-redis")
@click.argument("action", type=click.Choice(["start", "stop", "status"]), metavar="start|stop|status")
def embedded_redis(action: str):
    """Inicia, detiene o consulta el Redis embebido (solo sin REDIS_URL)."""
    from flask import current_app
    config = current_app.config["FACHO"]
    if config.redis_url:
        fail("REDIS_URL está definida: no se usa Redis embebido")
    sock = config.embedded_redis_socket
    if action == "start":
        redis_conn.ensure_embedded_redis(sock)
        click.echo(f"Redis embebido en unix://{sock}")
    elif action == "stop":
        stopped = redis_conn.stop_embedded_redis(sock)
        click.echo("Redis embebido detenido" if stopped else "Redis embebido no estaba activo")
    else:
        up = redis_conn.embedded_redis_answers(sock)
        click.echo("activo" if up else "detenido")
        if not up:
            raise SystemExit(1)


# --- operations (replaces the old gestionar_sistema.py) ----------------------------------

def _redis_or_none():
    client = get_redis()
    try:
        client.ping()
        return client
    except Exception:  # noqa: BLE001 - reported as "Redis no responde", never a traceback
        return None


def _emit(data, as_json: bool, render) -> None:
    if as_json:
        import json
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        render(data)


# Column headers of the tables (the --json keys stay as they are, for scripts).
COLUMN_LABELS = {
    "status": "estado", "job": "tarea", "created_at": "creada", "duration_ms": "duración_ms",
    "attempt": "intento", "requested_by": "solicitada_por", "age_s": "edad_s",
    "queues": "colas", "threads": "hilos", "up_s": "en_marcha_s", "expires_at": "vence",
    "stale": "vencido", "ready": "listos", "delayed": "diferidos", "dead": "dead-letter",
}


def _table(rows: list[dict], columns: list[str]) -> None:
    if not rows:
        click.echo("(nada)")
        return
    def cell(value) -> str:
        if isinstance(value, bool):
            return "sí" if value else "no"
        return "" if value is None else str(value)
    text = [[cell(r.get(c)) for c in columns] for r in rows]
    heads = [COLUMN_LABELS.get(c, c).upper() for c in columns]
    widths = [max(len(h), *(len(t[i]) for t in text)) for i, h in enumerate(heads)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(heads, widths)))
    for t in text:
        click.echo("  ".join(v.ljust(w) for v, w in zip(t, widths)))


json_option = click.option("--json", "as_json", is_flag=True, help="Salida JSON para scripts.")


@facho_cli.command("status")
@json_option
def status_command(as_json: bool):
    """Ejecuciones (24 h), colas, workers, líder del scheduler y cupos por OLT."""
    report = ops.status_report(_redis_or_none())

    def render(r):
        click.echo("Ejecuciones (últimas 24 h): " + "  ".join(
            f"{k}={v}" for k, v in r["executions_24h"].items()))
        if "queues" in r:
            click.echo("Colas:")
            _table([{"cola": q, **d} for q, d in r["queues"].items()],
                   ["cola", "ready", "delayed", "dead"])
            click.echo(f"Workers activos: {len(r['workers'])}")
            sched = r["scheduler"]
            age = sched["last_tick_age_s"]
            click.echo(f"Scheduler: líder={sched['leader'] or '-'} último tick "
                       + ("nunca" if age is None else f"hace {age} s"))
            if sched.get("clock_jump"):           # a wall-clock step seen in the last 24 h
                click.echo(sched["clock_jump"]["message"])
            stale = [s for s in r["olt_slots"] if s["stale"]]
            click.echo(f"Cupos por OLT: {len(r['olt_slots'])} ocupados, {len(stale)} vencidos")
        problems = r["problems"]
        if "queues" not in r:   # Redis down: say it once, with what to check
            problems = [redis_down_message() if p == ops.REDIS_DOWN else p for p in problems]
        click.echo("Estado: OK" if r["healthy"] else "Problemas: " + "; ".join(problems))

    _emit(report, as_json, render)
    if not report["healthy"]:
        raise SystemExit(1)


@facho_cli.command("recent")
@click.option("-n", "limit", default=20, show_default=True, type=click.IntRange(1, 1000),
              help="Cuántas mostrar.")
@click.option("--status", type=click.Choice(["PENDING", "RUNNING", "SUCCESS", "FAILED",
                                             "INTERRUPTED", "SKIPPED"], case_sensitive=False),
              help="Solo las de este estado.")
@json_option
def recent_command(limit: int, status: str | None, as_json: bool):
    """Las últimas ejecuciones."""
    rows = ops.recent_executions(limit, status.upper() if status else None)
    _emit(rows, as_json, lambda r: _table(r, ["id", "status", "job", "olt", "created_at",
                                              "duration_ms", "attempt", "requested_by"]))


@facho_cli.command("tasks")
@json_option
def tasks_command(as_json: bool):
    """Ejecuciones pendientes y en curso, con su antigüedad."""
    rows = ops.active_tasks()
    _emit(rows, as_json, lambda r: _table(r, ["id", "status", "job", "olt", "age_s",
                                              "attempt", "worker"]))


@facho_cli.command("workers")
@json_option
def workers_command(as_json: bool):
    """Workers activos (por sus latidos). Sale con 1 si no hay ninguno."""
    client = _redis_or_none()
    if client is None:
        fail(f"{redis_down_message()}; no se pueden listar los workers")
    rows = ops.live_workers(client)
    _emit(rows, as_json, lambda r: _table(r, ["id", "queues", "threads", "up_s"]))
    if not rows:
        raise SystemExit(1)


@facho_cli.command("locks")
@click.option("--free-stale", is_flag=True, help="Liberar los cupos vencidos.")
@click.option("--free", "free_olt", metavar="OLT", help="Liberar todos los cupos de una OLT.")
@json_option
def locks_command(free_stale: bool, free_olt: str | None, as_json: bool):
    """Cupos de concurrencia por OLT; libera los vencidos de forma segura."""
    client = _redis_or_none()
    if client is None:
        fail(redis_down_message())
    limiter = OltLimiter(client)
    if free_stale:
        click.echo(f"cupos vencidos liberados: {limiter.free_stale()}")
    if free_olt:
        olt = db.session.execute(db.select(Olt).filter_by(abreviatura=free_olt)).scalar_one_or_none()
        if olt is None:
            fail(f"OLT '{free_olt}' no existe", 2)
        click.echo(f"cupos liberados en {free_olt}: {limiter.free(olt.id)}")
    rows = ops.olt_slots(client)
    _emit(rows, as_json, lambda r: _table(r, ["olt", "token", "expires_at", "stale"]))
    if any(r["stale"] for r in rows):
        raise SystemExit(1)


@facho_cli.command("recover")
@json_option
def recover_command(as_json: bool):
    """Reconcilia ahora: reenvía mensajes perdidos y cierra ejecuciones de workers caídos."""
    from dataclasses import asdict
    if _redis_or_none() is None:
        fail(f"{redis_down_message()}; no se puede reconciliar (las ejecuciones siguen en "
             "la base)")
    # The reconciler counts its own failures (it also runs unattended); ask the database
    # first so an outage reads as one line (FachoGroup) instead of "errors=3".
    db.session.execute(sa.text("SELECT 1"))
    result = asdict(reconcile())
    _emit(result, as_json, lambda r: click.echo(" ".join(f"{k}={v}" for k, v in r.items())))
    if result["errors"]:
        raise SystemExit(1)


@facho_cli.command("run")
@click.argument("job", metavar="TAREA")
@click.option("--olt", "olts", multiple=True, metavar="OLT", help="Solo en esta OLT (repetible).")
@click.option("--user", "username", metavar="USUARIO", help="Registrar a nombre de este usuario.")
def run_command(job: str, olts: tuple[str, ...], username: str | None):
    """Ejecuta TAREA ahora en sus OLTs habilitadas (como «Ejecutar» en el panel)."""
    found = db.session.execute(db.select(SnmpJob).filter_by(nombre=job)).scalar_one_or_none()
    if found is None:
        fail(f"la tarea '{job}' no existe", 2)
    for name in olts:
        if db.session.execute(db.select(Olt).filter_by(abreviatura=name)).first() is None:
            fail(f"la OLT '{name}' no existe", 2)
    user_id = None
    if username:
        user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()
        if user is None:
            fail(f"el usuario '{username}' no existe", 2)
        user_id = user.id
    report = run_jobs_now([found.id], user_id, set(olts) or None)
    for category, text in report.messages():
        click.echo(f"{category}: {text}", err=category == "error")
    if report.error or not report.created:
        raise SystemExit(1)


@facho_cli.command("restart")
@click.option("--espera", "espera_s", default=60, show_default=True,
              type=click.IntRange(1, 3600),
              help="Segundos a esperar que los workers confirmen y vuelvan a arrancar.")
def restart_command(espera_s: int):
    """Reinicia los workers de `dramatiq` sin perder ejecuciones (web y scheduler siguen).

    Las ejecuciones en curso se devuelven a la cola y las retoma el proceso nuevo.
    Sale con 1 si ningún worker confirmó o si el reinicio no terminó en --espera s."""
    client = _redis_or_none()
    if client is None:
        fail(f"{redis_down_message()}; no se puede pedir el reinicio de los workers")
    targets = [w["id"] for w in ops.live_workers(client)]
    result = restart_workers(client, targets, espera_s, echo=click.echo)
    if result.problem:
        fail(result.problem)


@facho_cli.command("importar-v2")
@click.option("--desde", "url", required=True, metavar="URL",
              help="Base de Facho v2: postgresql://usuario@host:puerto/base (la clave mejor en "
                   "PGPASSWORD). Solo se lee.")
@click.option("--simular", is_flag=True, help="No escribe nada: muestra el informe completo.")
@click.option("--alcance", type=click.Choice(importer.SCOPES), default="catalogo",
              show_default=True, help="catalogo (marcas, OLTs, OIDs, fórmulas, tareas); "
              "inventario (además las ONUs); ejecuciones (además el historial de --dias días).")
@click.option("--dias", default=30, show_default=True, type=click.IntRange(1, 3650),
              help="Con --alcance ejecuciones: días de historial a traer.")
@click.option("--zona-cron", "zona_cron", default="UTC", show_default=True, metavar="ZONA",
              help="Zona en que Facho evaluará los cron importados. Facho v2 los evaluaba en "
                   "UTC: UTC conserva los instantes; p. ej. America/Lima conserva las horas "
                   "tal como se escribieron.")
@click.option("--json", "as_json", is_flag=True, help="Informe en JSON.")
def importar_v2_command(url: str, simular: bool, alcance: str, dias: int, zona_cron: str,
                        as_json: bool):
    """Importa la base de Facho v2 (Django + Celery): todo o nada, sin duplicar."""
    try:
        zona_cron = validate_timezone(zona_cron)
    except ValueError as exc:
        fail(f"--zona-cron: {exc}", 2)
    options = importer.Options(scope=alcance, days=dias, cron_tz=zona_cron, simulate=simular)
    # Facho's own database first: with it down, say so (the group's handler) before
    # reading a single row of the old one
    db.session.execute(sa.text("SELECT 1"))
    db.session.rollback()
    bars = []

    def progress(label: str, total: int):
        bar = click.progressbar(length=total, label=label, file=sys.stderr,
                                update_min_steps=max(1, total // 200))
        bar.__enter__()
        bars.append(bar)
        return bar.update

    try:
        report = importer.run_import(url, options, progress=None if as_json else progress)
    except importer.ImporterError as exc:
        fail(f"{exc} — no se importó nada")
    finally:
        for bar in bars:
            bar.__exit__(None, None, None)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(importer.render(report))


def init_app(app) -> None:
    facho_cli.add_command(simulate_olt)
    facho_cli.add_command(demo)
    app.cli.add_command(facho_cli)
