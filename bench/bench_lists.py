"""Panel lists at ISP scale (issue 15, part 5): p50/p99 of every panel list page at 10 M
executions and 1 M ONUs on PostgreSQL.

    python -m bench lists [-- --executions 10000000 --onus 1000000 --samples 40 --keep]

The data is generated inside PostgreSQL (INSERT ... SELECT generate_series): 2,000 OLTs,
8 jobs on every OLT (16,000 job hosts), `--executions` executions over the last 29 days
(2 % failed), `--onus` ONUs (500 per OLT, 5 % LOS / dying gasp / disconnected, 1 % absent),
100,000 incidents, 20,000 audit rows and 200,000 API calls. The schema comes from the
migrations (so the migration-only indexes are there), then ANALYZE.

Each list page (default view, filtered by one OLT, by state, by a date window, a search,
the second page) is requested `--samples` times through the Flask test client as a logged
in staff user: routing, queries and template, no network. Also recorded: the page's size
and whether its count was estimated ("≈").

`--keep` leaves the database for the next run (building 10 M rows takes minutes); a run
finds it by name and reuses it when its row counts match. `--drop` only drops it.
Figures, not pass/fail: printed and merged into ``bench/results/fleet.json`` (section
``lists``; the other sections stay as they are).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "fleet.json"
PG_ADMIN = os.environ.get("FACHO_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = "facho_bench_lists"
UTC = timezone.utc
OLTS = 2000
JOBS = 8
SECRET = "bench-secret-key-0123456789"


def _pg(url: str):
    import psycopg
    return psycopg.connect(url, autocommit=True, connect_timeout=3)


def pg_url() -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_DB}"


def say(text: str) -> None:
    print(f"  {datetime.now(UTC):%H:%M:%S} {text}", flush=True)


def exists() -> bool:
    with _pg(PG_ADMIN) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (PG_DB,)).fetchone() is not None


def drop() -> None:
    with _pg(PG_ADMIN) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')


def counts() -> dict[str, int]:
    with _pg(pg_url()) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("executions", "onus", "olts")}


# --- the data ---------------------------------------------------------------------------------

def build(app, executions: int, onus: int) -> dict:
    """Schema from the migrations, then every table filled inside PostgreSQL."""
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from facho.extensions import db
    from facho.models import User
    phases = {}
    t0 = time.monotonic()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.session.add(User(username="operador", is_staff=True, active=True,
                            password_hash=generate_password_hash(
                                "clave-segura-123", method="pbkdf2:sha256:1000")))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    phases["schema_s"] = round(time.monotonic() - t0, 1)
    with _pg(pg_url()) as conn:
        t0 = time.monotonic()
        conn.execute("INSERT INTO brands (nombre) VALUES ('Huawei')")
        conn.execute(f"""
            INSERT INTO olts (abreviatura, ip_address, comunidad, brand_id, modelo, created_at)
            SELECT 'OLT-' || lpad(n::text, 4, '0'), '10.' || (n / 250) || '.' || (n % 250) || '.1',
                   'bench', 1, CASE WHEN n % 3 = 0 THEN 'MA5600T' ELSE 'MA5800-X17' END, now()
            FROM generate_series(1, {OLTS}) n""")
        conn.execute(f"""
            INSERT INTO snmp_jobs (nombre, brand_id, job_type, interval_raw, created_at, updated_at)
            SELECT 'Tarea ' || n, 1, CASE WHEN n = 1 THEN 'descubrimiento' ELSE 'get' END,
                   CASE WHEN n = 1 THEN '15m' ELSE '5m' END, now(), now()
            FROM generate_series(1, {JOBS}) n""")
        conn.execute("""
            INSERT INTO job_hosts (job_id, olt_id, enabled, last_success_at, consecutive_failures)
            SELECT j.id, o.id, o.id % 97 <> 0, now(), 0 FROM snmp_jobs j, olts o""")
        say("OLTs, jobs, job hosts")
        # executions: one every 0.25 s, oldest first, spread over the jobs and OLTs
        plain = conn.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = 'executions'::regclass AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = indexrelid)").fetchall()
        index_defs = [definition for _, definition in plain]
        for name, _ in plain:
            conn.execute(f'DROP INDEX "{name}"')
        constraints = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'executions'::regclass AND contype = 'u'").fetchall()
        for name, _ in constraints:
            conn.execute(f'ALTER TABLE executions DROP CONSTRAINT "{name}"')
        chunk = 1_000_000
        for start in range(1, executions + 1, chunk):
            end = min(executions, start + chunk - 1)
            conn.execute(f"""
                INSERT INTO executions (job_id, olt_id, status, scheduled_for, attempt,
                    created_at, started_at, finished_at, duration_ms, result_summary,
                    error_message, worker)
                SELECT 1 + i % {JOBS}, 1 + (i / {JOBS}) % {OLTS},
                       CASE WHEN i % 50 = 0 THEN 'FAILED' WHEN i % 997 = 0 THEN 'SKIPPED'
                            ELSE 'SUCCESS' END,
                       t, 1, t, t + interval '1 s',
                       t + interval '1 s' + (i % 3000) * interval '1 ms', 200 + i % 3000,
                       '{{"onus": 256, "readings": 768}}'::json,
                       CASE WHEN i % 50 = 0 THEN 'Sin respuesta SNMP (timeout tras 3 intentos)' END,
                       'worker-1'
                FROM (SELECT i, now() - ({executions} - i) * interval '250 ms' AS t
                      FROM generate_series({start}, {end}) i) s""")
            say(f"executions {end:,}")
        phases["executions_insert_s"] = round(time.monotonic() - t0, 1)
        for name, definition in constraints:
            conn.execute(f'ALTER TABLE executions ADD CONSTRAINT "{name}" {definition}')
        for definition in index_defs:
            conn.execute(definition)
        say("execution indexes")
        conn.execute(f"""
            INSERT INTO onus (olt_id, raw_index, slot, port, onu_id, name, serial, descripcion,
                status, present, consecutive_misses, distance_km, rx_power, tx_power,
                first_seen_at, last_seen_at)
            SELECT 1 + (n - 1) / 500, ((n - 1) % 500)::text, 1 + (n - 1) % 500 / 128,
                   (n - 1) % 128 / 16, (n - 1) % 16,
                   '0/' || (1 + (n - 1) % 500 / 128) || '/' || ((n - 1) % 128 / 16) || ':' || ((n - 1) % 16),
                   'HWTC' || upper(lpad(to_hex(n), 8, '0')), 'cliente ' || n,
                   CASE n % 20 WHEN 0 THEN 'LOS' WHEN 1 THEN 'dying gasp (sin energía)'
                        WHEN 2 THEN 'desconectada' ELSE 'en línea' END,
                   n % 100 <> 0, 0, (n % 200) / 10.0, -18 - (n % 90) / 10.0, 2.1,
                   now() - interval '90 days', now()
            FROM generate_series(1, {onus}) n""")
        say("ONUs")
        conn.execute("""
            INSERT INTO incidents (kind, severity, dedupe_key, state, olt_id, slot, port,
                title, opened_at, resolved_at)
            SELECT 'pon_caida', CASE WHEN n % 7 = 0 THEN 'critico' ELSE 'aviso' END,
                   'pon:' || n, CASE WHEN n % 500 = 0 THEN 'abierto' ELSE 'resuelto' END,
                   1 + n % 2000, 1, n % 16, 'PON 0/1/' || (n % 16) || ' caída',
                   now() - (100000 - n) * interval '25 s',
                   CASE WHEN n % 500 = 0 THEN NULL
                        ELSE now() - (100000 - n) * interval '25 s' + interval '10 min' END
            FROM generate_series(1, 100000) n""")
        conn.execute("""
            INSERT INTO audit_events (at, username, action, target, count, detail)
            SELECT now() - (20000 - n) * interval '2 min', 'operador',
                   CASE WHEN n % 2 = 0 THEN 'onus_eliminadas' ELSE 'perfil_importado' END,
                   'OLT-' || lpad((1 + n % 2000)::text, 4, '0'), 1 + n % 30, 'detalle ' || n
            FROM generate_series(1, 20000) n""")
        conn.execute("""
            INSERT INTO api_calls (at, token_name, username, method, route, status, duration_ms)
            SELECT now() - (200000 - n) * interval '10 s', 'grafana', 'operador', 'GET',
                   '/api/v1/onus', CASE WHEN n % 100 = 0 THEN 429 ELSE 200 END, 5 + n % 40
            FROM generate_series(1, 200000) n""")
        say("incidents, audit, API calls")
        conn.execute("VACUUM ANALYZE")
        phases["total_s"] = round(time.monotonic() - t0, 1)
        say("analyzed")
    return phases


# --- the measurements -------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def pages() -> dict[str, str]:
    """Every panel list, as an operator opens it and filtered as an operator filters it."""
    return {
        "ejecuciones": "/admin/executions/",
        "ejecuciones, página 2": "/admin/executions/?page=1",
        "ejecuciones, página 50": "/admin/executions/?page=49",
        "ejecuciones por OLT": "/admin/executions/?flt0_olt_igual_a=1234",
        "ejecuciones por tarea": "/admin/executions/?flt0_tarea_igual_a=3",
        "ejecuciones fallidas": "/admin/executions/?flt0_estado_igual_a=FAILED",
        "ejecuciones fallidas de una OLT": "/admin/executions/?flt0_estado_igual_a=FAILED"
                                           "&flt1_olt_igual_a=1234",
        "ejecuciones de un día": "/admin/executions/?flt0_creada_entre="
                                 + _day_window(),
        "ejecuciones por duración": "/admin/executions/?sort=8&desc=1",
        "ONUs": "/admin/onus/",
        "ONUs, página 50": "/admin/onus/?page=49",
        "ONUs por OLT": "/admin/onus/?flt0_olt_igual_a=1234",
        "ONUs en LOS": "/admin/onus/?flt0_estado_igual_a=LOS",
        "ONUs ausentes": "/admin/onus/?flt0_presente_igual_a=0",
        "ONUs, búsqueda por serie": "/admin/onus/?search=HWTC0001E240",
        "ONUs, búsqueda por cliente": "/admin/onus/?search=cliente+123456",
        "tareas por OLT": "/admin/job_hosts/",
        "tareas por OLT de una OLT": "/admin/job_hosts/?flt0_olt_igual_a=1234",
        "OLTs": "/admin/olts/",
        "tareas": "/admin/snmp_jobs/",
        "incidentes": "/admin/incidentes/",
        "incidentes abiertos": "/admin/incidentes/?flt0_estado_igual_a=abierto",
        "incidentes de una OLT": "/admin/incidentes/?flt0_olt_igual_a=1234",
        "auditoría": "/admin/audit_events/",
        "llamadas a la API": "/admin/api_calls/",
    }


def _day_window() -> str:
    from urllib.parse import quote
    day = datetime.now(UTC).date()
    return quote(f"{day} 00:00:00 to {day} 23:59:59")


def measure(app, samples: int) -> dict:
    from bench.bench_history import DbClock
    from facho.extensions import db
    from tests.conftest import login
    client = app.test_client()
    login(client)
    with app.app_context():
        clock = DbClock(db.engine)
    out = {}
    for name, path in pages().items():
        client.get(path)   # warm: caches, plans
        spent, in_db = [], []
        for _ in range(samples):
            clock.total = 0.0
            t0 = time.perf_counter()
            response = client.get(path)
            spent.append((time.perf_counter() - t0) * 1000)
            in_db.append(clock.total * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code}")
        html = response.get_data(as_text=True)
        out[name] = {"path": path, "p50_ms": round(statistics.median(spent), 1),
                     "p99_ms": round(pct(spent, .99), 1), "max_ms": round(max(spent), 1),
                     "db_p50_ms": round(statistics.median(in_db), 1),
                     "db_p99_ms": round(pct(in_db, .99), 1),
                     "kB": round(len(html.encode()) / 1024, 1),
                     "estimated": 'data-count-estimated="1"' in html}
        print(f"  {name:34} p50 {out[name]['p50_ms']:7.1f} ms  p99 "
              f"{out[name]['p99_ms']:7.1f} ms  (db p50 {out[name]['db_p50_ms']:6.1f} p99 "
              f"{out[name]['db_p99_ms']:6.1f})  {out[name]['kB']:6.1f} kB"
              f"{'  ≈' if out[name]['estimated'] else ''}", flush=True)
    return out


def merge(section: dict) -> None:
    """fleet.json keeps every other section (the fleet benchmarks write them)."""
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data["lists"] = section
    RESULTS.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench lists")
    parser.add_argument("--executions", type=int, default=10_000_000)
    parser.add_argument("--onus", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=40, help="requests per page")
    parser.add_argument("--keep", action="store_true", help="keep the database for next time")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--drop", action="store_true", help="drop the kept database and exit")
    parser.add_argument("--no-write", action="store_true", help="do not write the results")
    args = parser.parse_args(argv)
    if args.drop:
        drop()
        return {}
    workdir = tempfile.mkdtemp(prefix="facho-bench-lists-")
    os.environ.update(FACHO_ENV="testing", FACHO_LOG_LEVEL="WARNING", SECRET_KEY=SECRET,
                      FACHO_VAR_DIR=workdir, DATABASE_URL=pg_url(),
                      REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"))
    from app import create_app
    from facho.config import load_config
    from facho.extensions import db
    load_start = [round(x, 2) for x in os.getloadavg()]
    phases = {}
    wanted = {"executions": args.executions, "onus": args.onus, "olts": OLTS}
    if not (exists() and counts() == wanted):
        drop()
        with _pg(PG_ADMIN) as conn:
            conn.execute(f'CREATE DATABASE "{PG_DB}"')
        app = create_app(load_config())
        phases = build(app, args.executions, args.onus)
    else:
        say("reusing the kept database")
        app = create_app(load_config())
    try:
        if args.build_only:
            return phases
        say("measuring")
        with app.app_context():
            sizes = {t: db.session.execute(db.text(
                f"SELECT pg_size_pretty(pg_total_relation_size('{t}'))")).scalar()
                for t in ("executions", "onus")}
            db.session.remove()
        lists = measure(app, args.samples)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if not args.keep and not args.build_only:
            drop()
    section = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_start": load_start,
                    "load_end": [round(x, 2) for x in os.getloadavg()]},
        "rows": dict(wanted, job_hosts=OLTS * JOBS, incidents=100_000, audit_events=20_000,
                     api_calls=200_000),
        "table_sizes": sizes, "build": phases, "samples_per_page": args.samples,
        "target_p99_ms": 150,
        "pages": lists,
        "worst_p99_ms": max(v["p99_ms"] for v in lists.values()),
    }
    if not args.no_write:
        merge(section)
    return section


if __name__ == "__main__":
    main()
