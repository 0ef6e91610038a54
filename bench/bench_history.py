"""ONU history at the issue 12 scale target, on PostgreSQL: storage per reading, the write
of one get execution, the ONU page's chart queries, the network views, roll-up, retention.

    .venv/bin/python -m bench history [-- --olts 10 --pool 400 --rounds 96 --samples 200]

Target (issue 12): 200 OLTs x 1,000 ONUs, 3 metrics every 15 minutes (57.6 M readings a
day), 30 days raw + 1 year of hourly roll-ups. The ONU inventory is generated at full size
(200 OLTs x 1,000 ONUs with slot, port, state and rx power: the network views read all of
it); the history for `--olts` of them (default 10: 5 %), per-reading costs extrapolated:

1. closed days: the 30 days before today, as `store.roll_up` leaves them (re-encoded by
   `compact`, hourly roll-ups written, partition packed by `partitions.pack`). Each row's
   day is drawn from a pool of `--pool` days per metric generated with the value model
   below and encoded by the same code (encoding 900 k distinct days would take minutes of
   Python and give the same sizes); hourly roll-ups for 30 days for every series and for a
   whole year for the `--chart-onus` ONUs the chart queries read;
2. today, the open day: `--rounds` rounds (96 = a whole day) of one real get execution per
   OLT, `store.append` of 3 metrics x 1,000 ONUs + commit, timed (database time: the
   statements and the commit, measured at the cursor; and wall time); a plain VACUUM of
   today's partition between rounds (not timed) stands in for autovacuum, which in real
   time (15 minutes between rounds) visits it after every round;
3. chart queries of random ONUs: `store.series` raw 30 days and hourly 1 year,
   `onu_page.chart_data` (30 d, 1 year), and the panel's ONU page over HTTP (30 d);
4. the network views (`network_timings`): PON view and worst PONs over all 200 OLTs;
5. tomorrow 01:05: `store.roll_up` of today (the real appended rows), `partitions.pack`,
   then retention of one day (`store.purge` drops the raw partition 30 days back; one full
   day of roll-ups deleted as its per-day DELETE does, extrapolated by rows).

Value model: rx power a level per ONU in [-28, -14] dBm with 0.15 dB of noise (2
decimals), tx power a level in [1.5, 3] dBm moving by 0.01 now and then, distance constant
per ONU (3 decimals); each execution starts 0-2 s after its 15-minute mark.

PostgreSQL: FACHO_BENCH_PG or postgresql://postgres@127.0.0.1:5432/postgres as the admin
connection; the benchmark creates its own database and drops it. Writes
`bench/results/history.json`. Figures, not pass/fail.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, time as dtime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import write_results  # noqa: E402
from bench.bench_e2e import create_database, drop_database, redis_url  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "history.json"
TARGET_OLTS, ONUS_PER_OLT, METRICS = 200, 1000, ("rx_power", "tx_power", "distancia_onu")
READINGS_PER_DAY = TARGET_OLTS * ONUS_PER_OLT * len(METRICS) * 96     # 57.6 M
RAW_DAYS, ROLLUP_DAYS = 30, 365
TARGETS = {"storage_30d_raw_gb": 10, "append_db_ms": 100, "onu_page_p99_ms": 200,
           "pon_view_ms": 200, "worst_pons_ms": 500, "retention_day_s": 5}
OFFLINE_LABELS = ("LOS", "dying gasp (sin energía)", "desconectada")


# --- the generated data ----------------------------------------------------------------

def onu_position(n: int) -> tuple[int, int, int]:
    """(slot, port, onu) of the n-th ONU of an OLT: 2 slots x 16 ports x up to 32 ONUs."""
    return 1 + n // 512, (n // 32) % 16, n % 32


class Model:
    """Per-ONU levels and the readings of one 15-minute round (see the module's doc)."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.levels: dict[int, tuple[float, float, float]] = {}

    def level(self, onu: int) -> tuple[float, float, float]:
        if onu not in self.levels:
            r = random.Random(onu)
            self.levels[onu] = (r.uniform(-28, -14), round(r.uniform(1.5, 3.0), 2),
                                round(r.uniform(0.3, 20.0), 3))
        return self.levels[onu]

    def values(self, onu: int) -> tuple[float, float, float]:
        rx, tx, km = self.level(onu)
        if self.rng.random() < 0.05:
            tx = round(tx + self.rng.choice((-0.01, 0.01)), 2)
            self.levels[onu] = (rx, tx, km)
        return round(rx + self.rng.gauss(0, 0.15), 2), tx, km

    def day(self, onu: int) -> dict[str, list[tuple[int, float]]]:
        out = {m: [] for m in METRICS}
        for quarter in range(96):
            second = quarter * 900 + self.rng.choice((0, 0, 1, 2))
            for metric, value in zip(METRICS, self.values(onu)):
                out[metric].append((second, value))
        return out


def pool_of(size: int, seed: int) -> dict[str, list[tuple]]:
    """`size` encoded days per metric: (compact raw samples, (packed hourly roll-ups, the
    day folded: min, avg, max, count)) as `store.roll_up` writes them."""
    from facho.inventory.history import compact, rollup, samples
    model = Model(seed)
    pool = {m: [] for m in METRICS}
    for n in range(size):
        for metric, records in model.day(n).items():
            records = list(samples.unpack(samples.pack_many(records)))   # as read back
            hours = rollup.pack_hours(rollup.hours_of(records))
            pool[metric].append((compact.encode(records),
                                 (hours, *rollup.day_summary(hours))))
    return pool


# --- setup -------------------------------------------------------------------------------

def copy_rows(engine, table: str, columns: list[str], rows) -> int:
    raw = engine.raw_connection()
    count = 0
    try:
        cursor = raw.driver_connection.cursor()
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        raw.driver_connection.commit()
    finally:
        raw.close()
    return count


def setup_inventory(app, rng: random.Random) -> dict:
    """Brand, 200 OLTs, 200 k ONUs (COPY); the ids by OLT."""
    from facho.extensions import db
    from facho.models import Brand, Olt
    with app.app_context():
        db.create_all()
        brand = Brand(nombre="Huawei")
        db.session.add(brand)
        db.session.flush()
        olts = [Olt(abreviatura=f"OLT-{n:03d}", ip_address=f"10.1.{n // 250}.{n % 250 + 1}",
                    comunidad="bench", brand_id=brand.id) for n in range(TARGET_OLTS)]
        db.session.add_all(olts)
        db.session.commit()
        olt_ids = [o.id for o in olts]
        now = datetime.now(UTC)

        def rows():
            for olt_id in olt_ids:
                for n in range(ONUS_PER_OLT):
                    slot, port, onu = onu_position(n)
                    offline = rng.random() < 0.03
                    yield (olt_id, f"{slot}.{port}.{onu}", slot, port, onu,
                           f"0/{slot}/{port}:{onu}", f"HWTC{olt_id:04d}{n:04d}",
                           rng.choice(OFFLINE_LABELS) if offline else "en línea",
                           rng.random() > 0.01, 0, round(rng.uniform(-29, -14), 2), now)
        copy_rows(db.engine, "onus", ["olt_id", "raw_index", "slot", "port", "onu_id", "name",
                                      "serial", "status", "present", "consecutive_misses",
                                      "rx_power", "first_seen_at"], rows())
        ids = {}
        for olt_id, onu_id in db.session.execute(db.text(
                "SELECT olt_id, id FROM onus ORDER BY olt_id, id")):
            ids.setdefault(olt_id, []).append(onu_id)
        db.session.execute(db.text("ANALYZE onus"))
        db.session.execute(db.text("ANALYZE olts"))
        db.session.commit()
        return {"olts": olt_ids, "onus": ids}


def load_closed_days(app, onus: list[int], chart_onus: list[int], today: date,
                     pool: dict, rng: random.Random) -> dict:
    """30 closed raw days (+ their roll-ups) for `onus`, a year of roll-ups for
    `chart_onus`, every raw partition packed; seconds spent."""
    from facho.extensions import db
    from facho.inventory.history import partitions
    started = time.monotonic()
    with app.app_context():
        engine = db.engine
        raw_days = [today - timedelta(days=n) for n in range(RAW_DAYS, 0, -1)]
        year = [today - timedelta(days=n) for n in range(ROLLUP_DAYS, RAW_DAYS, -1)]
        for day in raw_days + [today + timedelta(days=n) for n in range(3)]:
            partitions.create(engine, "onu_metric_days", day)
        picks = {}

        def raw_rows():
            for day in raw_days:
                for onu in onus:
                    for metric in METRICS:
                        pick = rng.randrange(len(pool[metric]))
                        picks[(onu, metric, day)] = pick
                        yield onu, metric, day, pool[metric][pick][0]

        def hour_rows():
            for (onu, metric, day), pick in picks.items():
                yield onu, metric, day, *pool[metric][pick][1]
            for day in year:
                for onu in chart_onus:
                    for metric in METRICS:
                        yield onu, metric, day, *rng.choice(pool[metric])[1]
        raw = copy_rows(engine, "onu_metric_days", ["onu_id", "metric", "day", "samples"],
                        raw_rows())
        hours = copy_rows(engine, "onu_metric_hours", ["onu_id", "metric", "day", "hours",
                                                       "day_min", "day_avg", "day_max",
                                                       "day_count"], hour_rows())
        loaded = time.monotonic() - started
        t0 = time.monotonic()
        partitions.pack(engine, today)
        packed = time.monotonic() - t0
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(db.text("ANALYZE onu_metric_hours"))
    return {"raw_rows": raw, "hour_rows": hours, "load_s": round(loaded, 1),
            "pack_30_days_s": round(packed, 1)}


# --- measurements --------------------------------------------------------------------------

class DbClock:
    """Time spent in the cursor's execute calls on an engine (the database's work, the
    round trips and the driver's parameter adaptation)."""

    def __init__(self, engine):
        import sqlalchemy as sa
        self.total = 0.0
        self._start: dict = {}
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._start[id(conn)] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.total += time.perf_counter() - self._start.pop(id(conn), time.perf_counter())


class CpuClock:
    """CPU seconds (user + system) of this process and of the database's client backends
    (read from /proc: PostgreSQL runs on this machine), the figure that does not grow with
    the machine's load the way elapsed time does; backends count in ticks of 10 ms, so
    only means over many calls mean something. A parallel query's workers have exited by
    the time they could be read: their share (the worst-PONs scan) is not counted.
    `name`: the benchmark's database."""

    def __init__(self, name: str):
        import psycopg
        from bench.bench_e2e import PG_ADMIN
        self.conn = psycopg.connect(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", autocommit=True)
        self.tick = os.sysconf("SC_CLK_TCK")

    def backends(self) -> float:
        total = 0
        for (pid,) in self.conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])     # utime, stime
        return total / self.tick

    def now(self) -> tuple[float, float]:
        return time.process_time(), self.backends()

    def close(self) -> None:
        self.conn.close()


def cpu_summary(spans: list[tuple[tuple[float, float], tuple[float, float]]]) -> dict:
    """Mean CPU ms per call: this process (Python: ORM, decoding, template) and the
    database backends."""
    n = len(spans)
    return {"n": n, "process_mean_ms": round(sum(b[0] - a[0] for a, b in spans) / n * 1000, 1),
            "database_mean_ms": round(sum(b[1] - a[1] for a, b in spans) / n * 1000, 1)}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary_ms(values: list[float]) -> dict:
    ms = [v * 1000 for v in values]
    return {"n": len(ms), "p50": round(statistics.median(ms), 1), "p95": round(pct(ms, .95), 1),
            "p99": round(pct(ms, .99), 1), "max": round(max(ms), 1)}


LOADS: dict[str, float] = {}     # 1-minute load average at the end of each phase


def say(text: str) -> None:
    LOADS[text] = round(os.getloadavg()[0], 2)
    print(f"  {datetime.now(UTC):%H:%M:%S} {text} (load {LOADS[text]})", flush=True)


def timed(fn, n: int) -> dict:
    spent = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        spent.append(time.perf_counter() - t0)
    return summary_ms(spent)


def open_day(app, onus_by_olt: dict[int, list[int]], today: date, rounds: int,
             model: Model, cpu: CpuClock) -> dict:
    """`rounds` 15-minute rounds of one get execution per OLT; database time (statements
    at the cursor + commit) and wall time (with building the rows in Python)."""
    from facho.extensions import db
    from facho.inventory.history import partitions, store
    db_times, wall_times, cpu_spans = [], [], []
    with app.app_context():
        clock = DbClock(db.engine)
        for quarter in range(rounds):
            if quarter:
                # autovacuum's part: in real time it visits a table whose rows all changed
                # within a minute of the round; a day squeezed into minutes outruns it
                with db.engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(db.text(
                        f"VACUUM {partitions.name_of('onu_metric_days', today)}"))
            for olt_id, onus in onus_by_olt.items():
                at = datetime.combine(today, dtime(), UTC) + timedelta(
                    minutes=15 * quarter, seconds=model.rng.choice((0, 0, 1, 2)))
                readings = [(onu, metric, at, value) for onu in onus
                            for metric, value in zip(METRICS, model.values(onu))]
                c0 = cpu.now()
                before, t0 = clock.total, time.perf_counter()
                store.append(readings)
                t1 = time.perf_counter()
                db.session.commit()           # the commit: a round trip and the WAL flush
                t2 = time.perf_counter()
                cpu_spans.append((c0, cpu.now()))
                wall_times.append(t2 - t0)
                db_times.append(clock.total - before + t2 - t1)
        db.session.remove()
    return {"executions": len(db_times), "readings_each": len(METRICS) * len(
        next(iter(onus_by_olt.values()))), "db_ms": summary_ms(db_times),
        "wall_ms": summary_ms(wall_times), "cpu": cpu_summary(cpu_spans)}


def partition_bytes(engine, table: str, days: list[date]) -> int:
    from facho.inventory.history import partitions
    import sqlalchemy as sa
    with engine.connect() as conn:
        return sum(conn.execute(sa.text("SELECT pg_total_relation_size(:n)"),
                                {"n": partitions.name_of(table, d)}).scalar() for d in days)


def chart_timings(app, chart_onus: list[int], samples: int, rng: random.Random) -> dict:
    from facho.extensions import db
    from facho.inventory import onu_page
    from facho.inventory.history import store
    from facho.models import Onu
    now = datetime.now(UTC)
    out = {}
    with app.app_context():
        pick = [rng.choice(chart_onus) for _ in range(samples)]
        out["series_raw_30d"] = timed(lambda i: store.series(
            pick[i], "rx_power", now - timedelta(days=30), now), samples)
        out["series_hour_1y"] = timed(lambda i: store.series(
            pick[i], "rx_power", now - timedelta(days=365), now, "hour"), samples)
        onus = {o: db.session.get(Onu, o) for o in set(pick)}
        for code in ("30d", "1a"):
            rng_ = onu_page.RANGES[code]
            out[f"chart_data_{code}"] = timed(lambda i: onu_page.chart_data(
                onus[pick[i]], rng_, now), samples)
        db.session.remove()
    return out


def http_timings(app, paths: list[str], cpu: CpuClock) -> dict:
    """Server time of panel pages (the Flask test client: routing, queries, template),
    and the CPU they took (mean)."""
    from tests.conftest import login
    client = app.test_client()
    login(client)
    spent, spans = [], []
    for path in paths:
        c0 = cpu.now()
        t0 = time.perf_counter()
        response = client.get(path)
        spent.append(time.perf_counter() - t0)
        spans.append((c0, cpu.now()))
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code}")
    return {**summary_ms(spent), "cpu": cpu_summary(spans)}


def network_timings(session, engine, ids: dict, samples: int, rng: random.Random) -> dict:
    """The hook for the network views (`facho.inventory.network`): the PON view's queries
    and the worst-PONs screen over every OLT. `ids`: {"olts": [...], "onus": {olt: [...]}}
    as generated (2 slots x 16 ports per OLT)."""
    from facho.inventory import network
    pons = [(rng.choice(ids["olts"]), 1 + rng.randrange(2), rng.randrange(16))
            for _ in range(samples)]

    def pon_view(i):
        olt, slot, port = pons[i]
        network.pon(olt, slot, port)
        network.worst_onus(olt, slot, port)
        network.pon_onus(olt, slot, port)
    return {"pon_view": timed(pon_view, samples),
            "worst_pons_desconectadas": timed(lambda i: network.worst_pons("desconectadas"),
                                              max(5, samples // 10)),
            "worst_pons_potencia": timed(lambda i: network.worst_pons("potencia"),
                                         max(5, samples // 10))}


def close_and_retain(app, today: date, fraction: float) -> dict:
    """Tomorrow 01:05: roll up and pack today; then retention of one day, timed in its two
    parts: dropping the raw partition 30 days back (`store.purge`, its size does not matter
    but for the row count it reports) and deleting one full day of roll-ups (the same
    per-day DELETE `store.purge` runs on the roll-ups, on the day 30 days back: the one
    with every series), extrapolated to the target by the row count."""
    from facho.extensions import db
    from facho.inventory.history import partitions, store
    from facho.models import OnuMetricHours
    tomorrow = datetime.combine(today + timedelta(days=1), dtime(1, 5), UTC)
    with app.app_context():
        t0 = time.monotonic()
        rolled = store.roll_up(tomorrow)
        roll_s = time.monotonic() - t0
        t0 = time.monotonic()
        packed = partitions.pack(db.engine, store.closed_before(tomorrow))
        pack_s = time.monotonic() - t0
        closed_bytes = partition_bytes(db.engine, "onu_metric_days", [today])
        t0 = time.monotonic()
        purged = store.purge(tomorrow, RAW_DAYS, ROLLUP_DAYS)
        purge_s = time.monotonic() - t0
        hours = OnuMetricHours.__table__
        t0 = time.monotonic()
        deleted = db.session.execute(hours.delete().where(
            hours.c.day == today - timedelta(days=RAW_DAYS))).rowcount
        db.session.commit()
        hours_day_s = time.monotonic() - t0
        db.session.remove()
    return {"rolled_up_rows": rolled, "roll_up_s": round(roll_s, 2), "packed": len(packed),
            "pack_s": round(pack_s, 2), "today_closed_bytes": closed_bytes,
            "retention": purged, "retention_s": round(purge_s, 3),
            "rollup_day_rows_deleted": deleted, "rollup_day_delete_s": round(hours_day_s, 3),
            "retention_day_at_target_s": round(purge_s + hours_day_s / fraction, 2)}


# --- main ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--olts", type=int, default=10, help="OLTs with history (of 200)")
    parser.add_argument("--pool", type=int, default=400, help="distinct days per metric")
    parser.add_argument("--rounds", type=int, default=96, help="15-minute rounds of today")
    parser.add_argument("--chart-onus", type=int, default=100,
                        help="ONUs with a whole year of roll-ups (chart queries)")
    parser.add_argument("--samples", type=int, default=200, help="queries timed per kind")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="keep the database (inspection)")
    parser.add_argument("--no-write", action="store_true", help="do not write the results file")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    load_start = [round(x, 2) for x in os.getloadavg()]
    name = f"facho_bench_history_{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="facho-bench-history-"))
    os.environ.update(FACHO_ENV="testing", REDIS_URL=redis_url(args.redis_db),
                      FACHO_LOG_LEVEL="WARNING", SECRET_KEY="bench-secret-key-0123456789",
                      FACHO_VAR_DIR=str(workdir))
    os.environ["DATABASE_URL"] = create_database(name)
    phases = {}
    try:
        from app import create_app
        from facho.config import load_config
        from facho.extensions import db
        app = create_app(load_config())
        t0 = time.monotonic()
        ids = setup_inventory(app, rng)
        say("inventory")
        phases["inventory_s"] = round(time.monotonic() - t0, 1)
        history_olts = ids["olts"][:args.olts]
        onus = [o for olt in history_olts for o in ids["onus"][olt]]
        chart_onus = rng.sample(onus, min(args.chart_onus, len(onus)))
        today = datetime.now(UTC).date()
        t0 = time.monotonic()
        pool = pool_of(args.pool, args.seed)
        say("pool")
        phases["pool_s"] = round(time.monotonic() - t0, 1)
        loaded = load_closed_days(app, onus, chart_onus, today, pool, rng)
        say("closed days loaded")
        with app.app_context():
            closed_days = [today - timedelta(days=n) for n in range(RAW_DAYS, 0, -1)]
            closed = partition_bytes(db.engine, "onu_metric_days", closed_days)
            hour_bytes = db.session.execute(db.text(
                "SELECT pg_total_relation_size('onu_metric_hours')")).scalar()
        closed_readings = loaded["raw_rows"] * 96
        cpu = CpuClock(name)
        appends = open_day(app, {o: ids["onus"][o] for o in history_olts}, today,
                           args.rounds, Model(args.seed + 1), cpu)
        say("appends")
        with app.app_context():
            open_bytes = partition_bytes(db.engine, "onu_metric_days", [today])
        open_readings = appends["executions"] * appends["readings_each"]
        charts = chart_timings(app, chart_onus, args.samples, rng)
        say("charts")
        with app.app_context():
            network = network_timings(db.session, db.engine, ids, args.samples, rng)
            say("network")
            db.session.remove()
        from tests.conftest import create_user
        create_user(app)
        pon_paths = [f"/admin/red/pon/{rng.choice(ids['olts'])}/{1 + rng.randrange(2)}/"
                     f"{rng.randrange(16)}/" for _ in range(max(20, args.samples // 4))]
        pages = {"onu_30d": http_timings(app, [f"/admin/red/onu/{rng.choice(chart_onus)}/"
                                               f"?rango=30d" for _ in range(args.samples)], cpu),
                 "onu_1a": http_timings(app, [f"/admin/red/onu/{rng.choice(chart_onus)}/"
                                              f"?rango=1a" for _ in range(args.samples // 2)],
                                        cpu),
                 "pon": http_timings(app, pon_paths, cpu),
                 "worst_pons": http_timings(app, ["/admin/red/"] * max(5, args.samples // 20),
                                            cpu)}
        cpu.close()
        closing = close_and_retain(app, today, args.olts / TARGET_OLTS)
        say("close and retain")
        with app.app_context():
            db.engine.dispose()
    finally:
        if not args.keep:
            drop_database(name)

    fraction = args.olts / TARGET_OLTS
    closed_per = closed / closed_readings
    open_per = open_bytes / open_readings
    today_closed_per = closing["today_closed_bytes"] / open_readings
    raw_30d_gb = (RAW_DAYS * closed_per + open_per) * READINGS_PER_DAY / 1e9
    hours_per_series_day = hour_bytes / loaded["hour_rows"]
    results = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "load_average_at_start": load_start,
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
                    "load_average_1min_after_phase": dict(LOADS),
                    "note": "2 cores shared with other sessions: elapsed times grow with the "
                            "load; the cpu figures (mean CPU ms per call) do not"},
        "setup": {"database": "postgresql", "onus_inventory": TARGET_OLTS * ONUS_PER_OLT,
                  "history_olts": args.olts, "fraction": fraction, "pool_days": args.pool,
                  "rounds_today": args.rounds, "chart_onus_with_a_year": len(chart_onus),
                  "closed_raw_rows": loaded["raw_rows"], "hour_rows": loaded["hour_rows"],
                  **phases, **{k: v for k, v in loaded.items() if k.endswith("_s")}},
        "targets": TARGETS,
        "storage": {
            "closed_day_bytes_per_reading": round(closed_per, 3),
            "open_day_bytes_per_reading": round(open_per, 3),
            "today_after_roll_up_bytes_per_reading": round(today_closed_per, 3),
            "raw_30_days_at_target_gb": round(raw_30d_gb, 2),
            "hourly_roll_ups_bytes_per_series_day": round(hours_per_series_day, 1),
            "hourly_roll_ups_1_year_at_target_gb": round(
                hours_per_series_day * TARGET_OLTS * ONUS_PER_OLT * len(METRICS)
                * ROLLUP_DAYS / 1e9, 1),
        },
        "append_one_execution": appends,
        "charts": charts, "network": network, "pages_http": pages,
        "close_day": {**{k: v for k, v in closing.items() if k != "retention"},
                      "roll_up_day_at_target_s": round(closing["roll_up_s"] / fraction, 1),
                      "pack_day_at_target_s": round(closing["pack_s"] / fraction, 1)},
        "retention_one_day": {"purge_s": closing["retention_s"], **closing["retention"],
                              "rollup_day_rows_deleted": closing["rollup_day_rows_deleted"],
                              "rollup_day_delete_s": closing["rollup_day_delete_s"],
                              "at_target_s": closing["retention_day_at_target_s"]},
    }
    print_table(results)
    if not args.no_write:
        write_results(RESULTS, results)
    return results


def print_table(r: dict) -> None:
    s, st = r["setup"], r["storage"]
    print(f"\nONU history, PostgreSQL: {s['onus_inventory']} ONUs in the inventory, history "
          f"of {s['history_olts']} OLTs ({s['fraction']:.0%}), {r['machine']['cpus']} CPUs, "
          f"load average {r['machine']['load_average_at_start'][0]} at start")
    a = r["append_one_execution"]
    rows = [
        ("raw 30 days at target (GB)", st["raw_30_days_at_target_gb"], "<= 10"),
        ("bytes/reading, closed day", st["closed_day_bytes_per_reading"], ""),
        ("bytes/reading, open day (end of day)", st["open_day_bytes_per_reading"], ""),
        ("hourly roll-ups, 1 year at target (GB)", st["hourly_roll_ups_1_year_at_target_gb"],
         ""),
        ("append 1 execution, DB ms p50 / p95",
         f"{a['db_ms']['p50']} / {a['db_ms']['p95']}", "<= 100"),
        ("series raw 30 d, ms p99", r["charts"]["series_raw_30d"]["p99"], ""),
        ("series hourly 1 year, ms p99", r["charts"]["series_hour_1y"]["p99"], ""),
        ("ONU page 30 d (HTTP), ms p99", r["pages_http"]["onu_30d"]["p99"], "<= 200"),
        ("ONU page 1 year (HTTP), ms p99", r["pages_http"]["onu_1a"]["p99"], ""),
        ("PON view (HTTP), ms p99", r["pages_http"]["pon"]["p99"], "<= 200"),
        ("worst PONs, 200 OLTs (HTTP), ms p99", r["pages_http"]["worst_pons"]["p99"], "<= 500"),
        ("roll-up + pack of a day at target, s",
         round(r["close_day"]["roll_up_day_at_target_s"]
               + r["close_day"]["pack_day_at_target_s"], 1), ""),
        ("retention of one day at target, s", r["retention_one_day"]["at_target_s"], "<= 5"),
    ]
    cpu = r["append_one_execution"]["cpu"]
    rows.append(("append 1 execution, CPU ms (PostgreSQL mean)", cpu["database_mean_ms"], ""))
    for key in ("onu_30d", "onu_1a", "pon", "worst_pons"):
        c = r["pages_http"][key]["cpu"]
        rows.append((f"{key} page, CPU ms mean (Python + PostgreSQL)",
                     f"{c['process_mean_ms']} + {c['database_mean_ms']}", ""))
    width = max(len(x[0]) for x in rows)
    for label, value, target in rows:
        print(f"  {label.ljust(width)}  {str(value).rjust(14)}  {target}")


if __name__ == "__main__":
    main()
