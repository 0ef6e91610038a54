"""The REST API at 1M ONUs on PostgreSQL, served by one gunicorn process.

    .venv/bin/python -m bench api [-- --olts 1000 --onus-per-olt 1000 --samples 300]

Builds a database of its own (migrated with `flask db upgrade`, so the trigram search index
and every migration-only index are there) and fills it in SQL (`INSERT … SELECT
generate_series`): `--olts` OLTs of `--onus-per-olt` ONUs each (1,000 x 1,000 = 1M: serial,
description from a pool of Peruvian names and streets, state, presence, rx power),
`--executions` executions (2 jobs, spread over every OLT and the last 30 days), and for
`--history-onus` ONUs the readings of today and yesterday (3 metrics every 15 minutes,
encoded by `history.samples`) plus 30 days of hourly roll-ups.

Then gunicorn serves the app with ONE worker process (`--threads` threads, as the
Procfile's web process but with one process), and a client on the same machine calls, one
request after another, each route `--samples` times with a `lectura` token (rate limit off;
every call still writes its `api_calls` row, as in production):

* search: `q` = a whole serial, a 5-character piece of a serial's own hex part (a few
  matches), a surname or street of the description pool (thousands of matches, a page of
  100), and apart the worst case: a piece that starts in the vendor prefix ("WTC" + 2 hex
  digits, 1/256 of the ONUs match: the planner walks the primary key through ~25,000 rows);
* ONU list with filters and keyset pages: one OLT + state, all OLTs by rx range, following
  `siguiente` for 5 pages;
* one ONU with its readings: the default (last 24 h, raw) and 30 days hourly;
* /olts (every OLT with its per-OLT counts);
* executions: newest first, one OLT, one state, following `siguiente`.

Reported per route: p50/p95/p99/max latency seen by the client (ms), requests per second
of that sequential run and the server's own time (p50/p99 of `api_calls.duration_ms`); then requests per second with `--clients` concurrent clients on the
search and ONU routes. The machine's load average before and after is recorded: other
sessions share it. Writes `bench/results/api.json`. Figures, not pass/fail; target (issue
14): p99 <= 150 ms for the search and the ONU with its history.

PostgreSQL: FACHO_BENCH_PG or postgresql://postgres@127.0.0.1:5432/postgres as the admin
connection; the database is dropped at the end. Redis: database `--redis-db` (default 13),
only the rate limiter's keys (off here) would be written.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import write_results  # noqa: E402
from bench.bench_e2e import PG_ADMIN, create_database, drop_database, redis_url  # noqa: E402
from bench.bench_history import copy_rows, say, summary_ms  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "api.json"
DB_NAME = "facho_bench_api"
METRICS = ("rx_power", "tx_power", "distancia_onu")
SURNAMES = ["Quispe", "Mamani", "Huamán", "Flores", "Rojas", "Sánchez", "García", "Torres",
            "Ramírez", "Castillo", "Chávez", "Vargas", "Mendoza", "Díaz", "Ccori", "Condori",
            "Paredes", "Salazar", "Gutiérrez", "Espinoza", "Ticona", "Apaza", "Cárdenas",
            "Villanueva", "Pari", "Yupanqui", "Choque", "Huanca", "Ccahuana", "Zegarra"]
STREETS = ["Av. Los Olivos", "Jr. Puno", "Calle Lima", "Av. Ejército", "Jr. Tacna",
           "Av. La Cultura", "Calle Real", "Av. Grau", "Jr. Ayacucho", "Av. Sol"]
STATES = "ARRAY['en línea','en línea','en línea','en línea','en línea','en línea','en línea'," \
         "'en línea','en línea','en línea','en línea','en línea','en línea','en línea'," \
         "'en línea','en línea','en línea','LOS','dying gasp (sin energía)','desconectada']"
TARGET_P99_MS = 150


# --- the data ------------------------------------------------------------------------------

def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "FACHO_ENV": "development", "FLASK_APP": "app"}
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)


def sql_array(words: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + w.replace("'", "''") + "'" for w in words) + "]"


def fill(url: str, olts: int, per_olt: int, executions: int) -> dict:
    """OLTs, ONUs, jobs, executions, a staff user: all in SQL, then ANALYZE."""
    import psycopg
    started = time.monotonic()
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"),
                         autocommit=True) as conn:
        conn.execute("INSERT INTO brands (nombre) VALUES ('Huawei')")
        conn.execute(f"""
            INSERT INTO olts (abreviatura, ip_address, comunidad, brand_id, created_at)
            SELECT 'OLT-' || lpad(n::text, 4, '0'), '10.' || (n / 250) || '.' || (n % 250)
                   || '.1', 'bench', 1, now()
            FROM generate_series(1, {olts}) AS n""")
        # position n of an OLT: 2 slots x 16 ports x 32 ONUs, then more slots
        conn.execute(f"""
            INSERT INTO onus (olt_id, raw_index, slot, port, onu_id, name, serial,
                              descripcion, status, present, consecutive_misses, rx_power,
                              tx_power, distance_km, first_seen_at, last_seen_at)
            SELECT o, s || '.' || p || '.' || k, s, p, k, '0/' || s || '/' || p || ':' || k,
                   'HWTC' || upper(substr(md5(i::text), 1, 8)),
                   ({sql_array(SURNAMES)})[1 + (hashint % 30)] || ' '
                     || ({sql_array(SURNAMES)})[1 + (hashint / 30 % 30)] || ' - '
                     || ({sql_array(STREETS)})[1 + (hashint / 900 % 10)] || ' '
                     || (hashint / 9000 % 2000),
                   ({STATES})[1 + (hashint / 7 % 20)],
                   (hashint % 97) <> 0, 0, round((-29 + (hashint % 1500) / 100.0)::numeric, 2),
                   2.1, round(((hashint % 2000) / 100.0)::numeric, 3), now(), now()
            FROM (SELECT i, 1 + (i - 1) / {per_olt} AS o, (i - 1) % {per_olt} AS m,
                         abs(hashtext(i::text)) AS hashint
                  FROM generate_series(1, {olts * per_olt}) AS i) g,
                 LATERAL (SELECT 1 + m / 512 AS s, (m / 32) % 16 AS p, m % 32 AS k) pos""")
        conn.execute("""
            INSERT INTO snmp_jobs (nombre, descripcion, brand_id, job_type, interval_raw,
                                   cron_tz, enabled,
                                   max_retries, retry_delay_seconds, missed_slots,
                                   schedule_version, created_at, updated_at)
            VALUES ('descubrir', '', 1, 'descubrimiento', '15m', 'America/Lima', true, 2, 30,
                    0, 0, now(), now()),
                   ('potencia', '', 1, 'get', '15m', 'America/Lima', true, 2, 30, 0, 0,
                    now(), now())""")
        # newest last: ids grow with created_at, as the scheduler writes them
        conn.execute(f"""
            INSERT INTO executions (job_id, olt_id, status, scheduled_for, attempt,
                                    created_at, started_at, finished_at, duration_ms)
            SELECT 1 + i % 2, 1 + (i / 2) % {olts},
                   CASE WHEN i % 53 = 0 THEN 'FAILED' ELSE 'SUCCESS' END, t, 1, t, t,
                   t + interval '3 seconds', 3000
            FROM (SELECT i, now() - interval '30 days' * (1 - i::float / {executions}) AS t
                  FROM generate_series(1, {executions}) AS i) g""")
        conn.execute("INSERT INTO users (username, password_hash, active, is_staff, "
                     "created_at) VALUES ('bench', 'x', true, true, now())")
        for table in ("olts", "onus", "executions", "snmp_jobs", "users"):
            conn.execute(f"VACUUM ANALYZE {table}")
    return {"fill_s": round(time.monotonic() - started, 1)}


def fill_history(app, onus: list[int], today: date) -> dict:
    """Today and yesterday raw (3 metrics every 15 min), 30 days of hourly roll-ups."""
    from facho.extensions import db
    from facho.inventory.history import partitions
    from bench.bench_history import pool_of
    pool = pool_of(40, seed=3)
    rng = random.Random(5)
    raw_days = [today - timedelta(days=1), today]
    hour_days = [today - timedelta(days=n) for n in range(30, -1, -1)]
    with app.app_context():
        for day in raw_days + [today + timedelta(days=1)]:
            partitions.create(db.engine, "onu_metric_days", day)
        raw = copy_rows(db.engine, "onu_metric_days", ["onu_id", "metric", "day", "samples"],
                        ((o, m, d, rng.choice(pool[m])[0])
                         for d in raw_days for o in onus for m in METRICS))
        # pool entries: (raw samples, (packed hours, day min, avg, max, count))
        hours = copy_rows(db.engine, "onu_metric_hours",
                          ["onu_id", "metric", "day", "hours", "day_min", "day_avg", "day_max",
                           "day_count"],
                          ((o, m, d, *rng.choice(pool[m])[1])
                           for d in hour_days for o in onus for m in METRICS))
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(db.text("ANALYZE onu_metric_days"))
            conn.execute(db.text("ANALYZE onu_metric_hours"))
    return {"raw_rows": raw, "hour_rows": hours}


# --- the server and the client ---------------------------------------------------------

def start_gunicorn(env: dict, port: int, threads: int, log: Path) -> subprocess.Popen:
    from tests.processes import start_process
    proc = start_process([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                          "--workers", "1", "--threads", str(threads), "app:create_app()"],
                         env, log, ROOT)
    import requests
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)   # any answer
            return proc
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn died: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer in 60 s: {log.read_text()[-2000:]}")


class Client:
    def __init__(self, base: str, secret: str):
        import requests
        self.base, self.session = base, requests.Session()
        self.session.headers["Authorization"] = f"Bearer {secret}"

    def get(self, path: str) -> dict:
        response = self.session.get(self.base + path, timeout=60)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
        return response.json()


def sequential(client: Client, paths) -> dict:
    """Each path of `paths` (a list, or a function i -> list of paths followed as one
    call each) once, in order; latency per call and requests per second."""
    spent = []
    started = time.perf_counter()
    for path in paths:
        t0 = time.perf_counter()
        client.get(path)
        spent.append(time.perf_counter() - t0)
    wall = time.perf_counter() - started
    return {**summary_ms(spent), "rps": round(len(spent) / wall, 1)}


def pages(client: Client, first: str, count: int) -> list[float]:
    """Follow `siguiente` from `first` for `count` pages: the latency of each."""
    spent, path = [], first
    for _ in range(count):
        t0 = time.perf_counter()
        body = client.get(path)
        spent.append(time.perf_counter() - t0)
        if not body.get("siguiente"):
            break
        sep = "&" if "?" in first else "?"
        path = f"{first}{sep}despues_de={body['siguiente']}"
    return spent


def paged(client: Client, firsts: list[str], count: int) -> dict:
    spent = []
    started = time.perf_counter()
    for first in firsts:
        spent += pages(client, first, count)
    wall = time.perf_counter() - started
    return {**summary_ms(spent), "rps": round(len(spent) / wall, 1)}


def concurrent(base: str, secret: str, paths: list[str], clients: int) -> dict:
    """`paths` shared by `clients` threads, each with its own connection."""
    spent: list[float] = []
    lock = threading.Lock()
    queue = list(paths)

    def work():
        client = Client(base, secret)
        while True:
            with lock:
                if not queue:
                    return
                path = queue.pop()
            t0 = time.perf_counter()
            client.get(path)
            with lock:
                spent.append(time.perf_counter() - t0)
    threads = [threading.Thread(target=work) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {**summary_ms(spent), "rps": round(len(spent) / wall, 1), "clients": clients}


class ServerClock:
    """Server time of the calls of a phase, from the call log (`api_calls.duration_ms`:
    before_request to after_request in the gunicorn process, without the client, the
    socket and the call log's own write)."""

    def __init__(self, url: str):
        import psycopg
        self.conn = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"),
                                    autocommit=True)

    def last_id(self) -> int:
        return self.conn.execute("SELECT coalesce(max(id), 0) FROM api_calls").fetchone()[0]

    def since(self, first: int) -> dict:
        ms = [r[0] for r in self.conn.execute(
            "SELECT duration_ms FROM api_calls WHERE id > %s", (first,))]
        return {"server_p50": summary_ms([m / 1000 for m in ms])["p50"],
                "server_p99": summary_ms([m / 1000 for m in ms])["p99"]} if ms else {}


def measure(base: str, secret: str, ids: dict, n: int, clients: int, rng, clock) -> dict:
    from urllib.parse import quote
    client = Client(base, secret)
    serials, onus, olts = ids["serials"], ids["history_onus"], ids["olts"]
    # what an operator types: a whole serial, or a piece of its own part (the 8 hex digits
    # after the vendor's "HWTC"); and, apart, a piece that starts in the vendor prefix,
    # shared by 1/256 of the ONUs (the worst case of the search, see the README)
    whole = rng.sample(serials, n)
    pieces = [s[4 + rng.randrange(0, 4):][:5] for s in rng.sample(serials, n)]
    prefixed = ["WTC" + s[4:6] for s in rng.sample(serials, n)]
    words = [rng.choice(SURNAMES + STREETS) for _ in range(n)]
    for path in ("/api/v1/olts", f"/api/v1/onus?q={quote(words[0])}", "/api/v1/ejecuciones"):
        client.get(path)                                         # warm the worker up
    out = {}

    def phase(name, run):
        first = clock.last_id()
        out[name] = {**run(), **clock.since(first)}

    say("search")
    phase("search_serial_whole", lambda: sequential(
        client, [f"/api/v1/onus?limite=100&q={quote(p)}" for p in whole]))
    phase("search_serial_piece", lambda: sequential(
        client, [f"/api/v1/onus?limite=100&q={quote(p)}" for p in pieces]))
    phase("search_description", lambda: sequential(
        client, [f"/api/v1/onus?limite=100&q={quote(w)}" for w in words]))
    phase("search_vendor_prefix_piece", lambda: sequential(
        client, [f"/api/v1/onus?limite=100&q={quote(p)}" for p in prefixed]))
    say("lists")
    phase("onus_olt_state_5_pages", lambda: paged(
        client, [f"/api/v1/onus?limite=100&olt={rng.choice(olts)}&estado=" + quote("en línea")
                 for _ in range(max(1, n // 5))], 5))
    phase("onus_rx_range_5_pages", lambda: paged(
        client, ["/api/v1/onus?limite=100&rx_min=-28&rx_max=-27.5&presente=true"
                 for _ in range(max(1, n // 5))], 5))
    say("one ONU")
    phase("onu_history_24h_raw", lambda: sequential(
        client, [f"/api/v1/onus/{rng.choice(onus)}" for _ in range(n)]))
    since = quote((datetime.now(UTC) - timedelta(days=30)).isoformat())
    phase("onu_history_30d_hour", lambda: sequential(
        client, [f"/api/v1/onus/{rng.choice(onus)}?resolucion=hour&desde={since}"
                 for _ in range(n)]))
    say("olts")
    phase("olts", lambda: sequential(client, ["/api/v1/olts"] * max(10, n // 10)))
    say("executions")
    phase("executions_5_pages", lambda: paged(
        client, ["/api/v1/ejecuciones?limite=100"] * max(1, n // 5), 5))
    phase("executions_olt", lambda: sequential(
        client, [f"/api/v1/ejecuciones?limite=100&olt={rng.choice(olts)}" for _ in range(n)]))
    phase("executions_failed_5_pages", lambda: paged(
        client, ["/api/v1/ejecuciones?limite=100&estado=FAILED"] * max(1, n // 5), 5))
    say(f"{clients} concurrent clients")
    phase("concurrent_search_serial_piece", lambda: concurrent(
        base, secret, [f"/api/v1/onus?limite=100&q={quote(p)}" for p in pieces], clients))
    phase("concurrent_onu_history", lambda: concurrent(
        base, secret, [f"/api/v1/onus/{rng.choice(onus)}" for _ in range(n)], clients))
    return out


def olt_recount_ms(app, times: int = 5) -> dict:
    """The GROUP BY that `/olts` runs at most every 30 s (`olt_counts`), timed alone."""
    from facho.api import queries
    from facho.extensions import db
    spent = []
    with app.app_context():
        for _ in range(times):
            t0 = time.perf_counter()
            queries.olt_counts()
            spent.append(time.perf_counter() - t0)
        db.session.remove()
    return summary_ms(spent)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench api")
    parser.add_argument("--olts", type=int, default=1000)
    parser.add_argument("--onus-per-olt", type=int, default=1000)
    parser.add_argument("--executions", type=int, default=1_000_000)
    parser.add_argument("--history-onus", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--redis-db", type=int, default=13)
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument("--reuse", action="store_true",
                        help="measure on the database a --keep run left (migrated again)")
    args = parser.parse_args(argv)
    rng = random.Random(14)
    load_before = [round(x, 2) for x in os.getloadavg()]
    if args.reuse:
        url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") \
            + f"/{DB_NAME}"
    else:
        url = create_database(DB_NAME).replace("postgresql://", "postgresql+psycopg://")
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url(args.redis_db),
           "FACHO_ENV": "development", "FACHO_API_RATE_PER_MINUTE": "0",
           "SECRET_KEY": "bench-api-secret-key-0123456789"}
    proc = None
    try:
        say(f"migrating {DB_NAME}")
        migrate(url)
        if not args.reuse:
            say(f"filling {args.olts * args.onus_per_olt} ONUs, {args.executions} executions")
            setup = fill(url, args.olts, args.onus_per_olt, args.executions)
        else:
            setup = {"reused": True}
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "FACHO_ENV",
                                               "SECRET_KEY")})
        from app import create_app
        from facho.api import tokens
        from facho.extensions import db
        app = create_app()
        with app.app_context():
            total = args.olts * args.onus_per_olt
            history_onus = sorted(rng.sample(range(1, total + 1), args.history_onus))
            if args.reuse:
                history_onus = list(db.session.execute(db.text(
                    "SELECT DISTINCT onu_id FROM onu_metric_hours ORDER BY 1")).scalars())
            serials = list(db.session.execute(db.text(
                "SELECT serial FROM onus WHERE id = ANY(:ids)"),
                {"ids": rng.sample(range(1, total + 1), 2000)}).scalars())
            _, secret = tokens.create(1, "bench", ["lectura"])
            db.session.commit()
        if not args.reuse:
            say("history of the sampled ONUs")
            setup.update(fill_history(app, history_onus, datetime.now(UTC).date()))
        from tests.conftest import free_port
        port = free_port()
        with tempfile.TemporaryDirectory() as tmp:
            proc = start_gunicorn(env, port, args.threads, Path(tmp) / "gunicorn.log")
            figures = measure(f"http://127.0.0.1:{port}", secret,
                              {"serials": serials, "history_onus": history_onus,
                               "olts": list(range(1, args.olts + 1))},
                              args.samples, args.clients, rng, ServerClock(url))
        figures["olts_recount_alone"] = olt_recount_ms(app)
        load_after = [round(x, 2) for x in os.getloadavg()]
        with app.app_context():
            sizes = dict(db.session.execute(db.text(
                "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
                "WHERE relname IN ('onus', 'executions', 'ix_onus_search_trgm', "
                "'onu_metric_hours')")).all())
            db.session.remove()
    finally:
        if proc is not None:
            from tests.processes import stop_process
            stop_process(proc)
        if not args.keep:
            drop_database(DB_NAME)
    print(f"\n{'route':32} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'req/s':>7} "
          f"{'server p50/p99':>15}")
    for name, f in figures.items():
        server = f"{f.get('server_p50', '-')}/{f.get('server_p99', '-')}"
        print(f"{name:32} {f['p50']:8.1f} {f['p99']:8.1f} {f['max']:8.1f} "
              f"{f.get('rps', 0):7.1f} {server:>15}")
    print(f"load average before {load_before}, after {load_after}")
    write_results(RESULTS, {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_before": load_before, "load_average_after": load_after,
                    "note": "2-core machine shared with other sessions; the client runs "
                            "on the same machine as gunicorn and PostgreSQL"},
        "scale": {"olts": args.olts, "onus": args.olts * args.onus_per_olt,
                  "executions": args.executions, "history_onus": args.history_onus,
                  "samples_per_route": args.samples, "gunicorn": f"1 worker process, "
                                                                f"{args.threads} threads",
                  "sizes": sizes, **setup},
        "target_p99_ms": {name: TARGET_P99_MS for name in (
            "search_serial_whole", "search_serial_piece", "search_description",
            "onu_history_24h_raw", "onu_history_30d_hour")},
        "routes": figures,
    })


if __name__ == "__main__":
    main()
