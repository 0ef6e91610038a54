"""OLTs that misbehave beside healthy ones, through real Dramatiq workers on PostgreSQL:
one that answers slowly (80 % of the timeout), one behind a link that loses half its
datagrams (a loopback proxy), one that never answers and one whose agent is down. Their
executions end with the right state and message; the healthy OLTs beside them finish as
fast as without them; and a worker process running hundreds of such executions keeps its
file descriptors (and, within a generous bound, its memory) where they were.
"""
from __future__ import annotations

import statistics
import time
from urllib.parse import urlsplit
from datetime import datetime, timezone

import pytest

from facho.models import FAILED, SUCCESS
from facho.ops.olt_sim import write_snmprec
from tests.conftest import _fresh_schema, make_test_app
from tests.execution_helpers import onus, slow_huawei_agent
from tests.factories import int_discovery_oid, make_job, make_olt, seed_catalog
from tests.reliability._bad_olts import WorkerProcess, final_rows, send_wave
from tests.reliability._udp_proxy import LossyUdpProxy
from tests.snmp_agents import FakeAgent, udp_free_port

HEALTHY_ONUS, SMALL_ONUS = 64, 8
COLUMNS = ["Huawei ONT descubrimiento", "Huawei ONT descripción"]


@pytest.fixture(scope="module")
def healthy_sim(snmpsim_factory, tmp_path_factory):
    """One real snmpsim serving a 64-ONU Huawei OLT (community `sano`) and an 8-ONU one
    (`chica`, one GetBulk per walk: the leak test's OLTs, where walk size is not the point)."""
    data = tmp_path_factory.mktemp("bad-olts-snmp")
    write_snmprec(data / "sano.snmprec", "huawei", HEALTHY_ONUS, seed=5)
    write_snmprec(data / "chica.snmprec", "huawei", SMALL_ONUS, seed=6)
    return snmpsim_factory(data, probe_community="sano")


def silent_agent() -> FakeAgent:
    """An agent that receives every request and never answers (a hung SNMP daemon)."""
    return FakeAgent(lambda kind, oids, reps: None)


def _app(pg_database_url, tmp_path, **env):
    app = make_test_app(pg_database_url, tmp_path, **env)
    _fresh_schema(app)
    return app


def _seconds_after(moment: datetime, t0: float) -> float:
    return moment.astimezone(timezone.utc).timestamp() - t0


# --- slow, lossy, silent and down OLTs beside healthy ones -------------------------------

TIMEOUT_S, RETRIES = 1.0, 3           # 4 attempts of 1 s per request
SLOW_DELAY_S, SLOW_ROWS = 0.8, 60     # 3 GetBulk of 25 rows, each answered after 0.8 s


def _worker_env(pg_database_url, redis_url, tmp_path, **env) -> dict:
    return dict(env, FACHO_ENV="testing", DATABASE_URL=pg_database_url, REDIS_URL=redis_url,
                SECRET_KEY="test-secret-key-0123456789", FACHO_VAR_DIR=str(tmp_path),
                FACHO_LOG_LEVEL="WARNING")


def test_slow_lossy_silent_and_down_olts_end_right_and_do_not_slow_the_healthy_ones(
        pg_database_url, redis_url, tmp_path, healthy_sim, reliability):
    env = dict(FACHO_SNMP_TIMEOUT_S=str(TIMEOUT_S), FACHO_SNMP_RETRIES=str(RETRIES))
    app = _app(pg_database_url, tmp_path, **env)
    with (slow_huawei_agent(rows=SLOW_ROWS, delay_s=SLOW_DELAY_S) as slow, silent_agent() as mute,
          LossyUdpProxy(healthy_sim.port, loss=0.5, seed=11) as link):
        with app.app_context():
            seed_catalog()
            healthy = [make_olt(f"SANA-{n}", healthy_sim.port, "sano") for n in range(4)]
            olts = dict(lenta=make_olt("LENTA", slow.port, "publica"),
                        muda=make_olt("MUDA", mute.port, "publica"),
                        caida=make_olt("CAIDA", udp_free_port(), "publica"),
                        perdida=make_olt("PERDIDA", link.port, "sano"))
            main = make_job("Descubrir", COLUMNS, max_retries=1, retry_delay_seconds=1,
                            olt_ids=(*healthy, olts["caida"]))
            once = make_job("Descubrir sin reintento", COLUMNS, max_retries=0,
                            olt_ids=(olts["muda"],))
            lossy = make_job("Descubrir enlace malo", COLUMNS, max_retries=3,
                             retry_delay_seconds=0, olt_ids=(olts["perdida"],))
            slow_job = make_job("Descubrir lenta", [int_discovery_oid()],
                                olt_ids=(olts["lenta"],))
        bad_pairs = [(slow_job, olts["lenta"]), (once, olts["muda"]), (main, olts["caida"]),
                     (lossy, olts["perdida"])]
        # a worker process of its own: the fake agents and the proxy in this process do not
        # compete with it for the GIL, as real OLTs would not
        with WorkerProcess(tmp_path, _worker_env(pg_database_url, redis_url, tmp_path, **env),
                           threads=8) as worker:
            t_base = time.time()
            baseline = final_rows(app, send_wave(app, [(main, o) for o in healthy]), 60)
            t0 = time.time()
            bad_ids = send_wave(app, bad_pairs)           # the bad ones take threads first
            mixed_ids = send_wave(app, [(main, o) for o in healthy])
            rows = final_rows(app, bad_ids + mixed_ids, 90)
            assert worker.alive(), worker.log_text()[-2000:]

    mixed = [rows[i] for i in mixed_ids]
    slow_row, mute_row, down_row, lossy_row = (rows[i] for i in bad_ids)
    base_end = [_seconds_after(r.finished_at, t_base) for r in baseline.values()]
    mixed_end = [_seconds_after(r.finished_at, t0) for r in mixed]
    bad_end = {name: round(_seconds_after(r.finished_at, t0), 2) for name, r in
               zip(("lenta", "muda", "caida", "perdida"), (slow_row, mute_row, down_row, lossy_row))}
    mute_first_attempt_end = (1 + RETRIES) * TIMEOUT_S
    lossy_onus = len(onus(app, olts["perdida"]))
    reliability.record(
        "fault", "OLT lenta (80 % del timeout), enlace con 50 % de pérdida, OLT muda y agente "
                 "caído junto a 4 OLTs sanas",
        healthy_ms_baseline=[r.duration_ms for r in baseline.values()],
        healthy_ms_mixed=[r.duration_ms for r in mixed],
        healthy_done_s_baseline=round(max(base_end), 2), healthy_done_s_mixed=round(max(mixed_end), 2),
        healthy_p50_ms_baseline=statistics.median(r.duration_ms for r in baseline.values()),
        healthy_p50_ms_mixed=statistics.median(r.duration_ms for r in mixed),
        bad_done_s=bad_end, mute_first_attempt_ends_s=mute_first_attempt_end,
        states={"lenta": slow_row.status, "muda": mute_row.status, "caida": down_row.status,
                "perdida": f"{lossy_row.status} (intento {lossy_row.attempt})"},
        lossy_link=dict(link.stats), lossy_onus=lossy_onus,
        slow_requests=len(slow.requests), slow_ms=slow_row.duration_ms)

    for row in list(baseline.values()) + mixed:
        assert row.status == SUCCESS and row.attempt == 1, row.error_message
        assert row.result_summary["found"] == HEALTHY_ONUS
    # the healthy OLTs were done before the silent one had even used up its first attempt
    # (how they compare with the slow one and with the baseline is recorded, not asserted)
    assert max(mixed_end) < mute_first_attempt_end, (mixed_end, bad_end)

    assert slow_row.status == SUCCESS and slow_row.attempt == 1, slow_row.error_message
    assert slow_row.result_summary["found"] == SLOW_ROWS == len(onus(app, olts["lenta"]))
    assert slow_row.duration_ms >= 3 * SLOW_DELAY_S * 1000 * 0.95   # it really was slow

    mute_port = mute.port
    assert (mute_row.status, mute_row.attempt) == (FAILED, 1)
    assert mute_row.error_message.startswith(
        f"Sin respuesta SNMP de 127.0.0.1:{mute_port} "
        "(espera de 1 s por envío, 3 reintentos SNMP)")
    assert bad_end["muda"] >= mute_first_attempt_end              # it waited all 4 out
    assert len(mute.requests) == 1 + RETRIES                      # one GetBulk, sent 4 times
    assert (down_row.status, down_row.attempt) == (FAILED, 2)
    assert "rechazó la conexión SNMP" in down_row.error_message
    assert down_row.error_message.endswith("(falló en los 2 intentos)")
    for row in (mute_row, down_row):
        assert "publica" not in row.error_message and "Traceback" not in row.error_message

    # half the datagrams lost: either the whole table (after retries) or a clean timeout,
    # never a partial inventory
    assert link.stats["dropped"] > 0, link.stats     # a handful of datagrams: no ratio
    if lossy_row.status == SUCCESS:
        assert lossy_row.result_summary["found"] == lossy_onus == HEALTHY_ONUS
    else:
        assert lossy_row.status == FAILED and lossy_row.attempt == 4
        assert lossy_row.error_message.startswith("Sin respuesta SNMP")
        assert lossy_onus == 0


def test_the_proxy_loses_and_delays_the_share_it_is_told(reliability):
    """The tool itself: no loss is no loss, total loss is silence, delays are applied."""
    from facho.snmp import SnmpClient, SnmpTarget, SnmpTimeout, run
    from tests.snmp_agents import table_policy

    root = (1, 3, 6, 1, 4, 1, 99, 1)
    figures = {}
    with FakeAgent(table_policy(root, 10)) as agent:
        for name, options in (("clean", {}), ("late", dict(delay_s=0.2, delay_share=1.0)),
                              ("lost", dict(loss=1.0))):
            with LossyUdpProxy(agent.port, **options) as link:
                client = SnmpClient(SnmpTarget("127.0.0.1", link.port, timeout_s=0.5,
                                               retries=0))
                started = time.monotonic()
                try:
                    rows = len(run(client.walk(".".join(map(str, root)))))
                except SnmpTimeout:
                    rows = None
                figures[name] = dict(rows=rows, s=round(time.monotonic() - started, 3),
                                     **link.stats)
    reliability.record("fault", "proxy UDP de pérdida y retardo (autoverificación)", **figures)
    assert figures["clean"]["rows"] == 10 and figures["clean"]["dropped"] == 0
    assert figures["late"]["rows"] == 10 and figures["late"]["s"] >= 2 * 0.2   # both ways
    assert figures["late"]["delayed"] == figures["late"]["received"] >= 2
    assert figures["lost"]["rows"] is None and figures["lost"]["forwarded"] == 0


# --- leaks over many executions ----------------------------------------------------------

WAVE = {"healthy": 10, "refused": 4, "silent": 3, "lossy": 3}      # 20 executions per wave
THREADS = 20                       # as the seeds run discovery_main: a whole wave at once
# The Redis connection pool opens a connection more at each new concurrency peak and keeps
# it: bounded by its users (worker threads, their lease renewers, consumers, presence), not
# by the executions. Everything else returns to its baseline; a leak grows with the
# executions (one per failed walk would be 100 here). SNMP sockets: none stays open.
REDIS_POOL_MAX = 2 * THREADS + 5
FD_TOLERANCE = 1
RSS_KB_PER_EXECUTION_MAX = 50      # generous: measured 4-7 KB


@pytest.mark.parametrize("executions", [
    200, pytest.param(1000, marks=pytest.mark.long)])
def test_a_worker_keeps_its_file_descriptors_over_many_executions_against_bad_olts(
        executions, pg_database_url, redis_url, tmp_path, healthy_sim, reliability):
    env = dict(FACHO_SNMP_TIMEOUT_S="0.3", FACHO_SNMP_RETRIES="1")
    redis_fd, pg_fd = (f"tcp:{urlsplit(url).port}" for url in (redis_url, pg_database_url))
    app = _app(pg_database_url, tmp_path, **env)
    mutes = [silent_agent() for _ in range(WAVE["silent"])]
    # half the datagrams lost, and a fifth of the rest late (0.25 s of a 0.3 s timeout): late
    # replies land on the next attempt or request, which must skip them
    links = [LossyUdpProxy(healthy_sim.port, loss=0.5, delay_s=0.25, delay_share=0.2, seed=n)
             for n in range(WAVE["lossy"])]
    for part in mutes + links:
        part.__enter__()
    try:
        with app.app_context():
            seed_catalog()
            kinds = {}
            # a wave a second is 60 starts a minute per OLT: over the default start-rate cap
            # (30/min), which would hold waves back ~40 s; that limiter is not under test
            fast = dict(max_starts_per_minute=1000)
            for n in range(WAVE["healthy"]):
                kinds[make_olt(f"SANA-{n}", healthy_sim.port, "chica", **fast)] = "healthy"
            for n in range(WAVE["refused"]):
                kinds[make_olt(f"CAIDA-{n}", udp_free_port(), "publica", **fast)] = "refused"
            for n, agent in enumerate(mutes):
                kinds[make_olt(f"MUDA-{n}", agent.port, "publica", **fast)] = "silent"
            for n, link in enumerate(links):
                kinds[make_olt(f"PERDIDA-{n}", link.port, "chica", **fast)] = "lossy"
            refused = [o for o, k in kinds.items() if k == "refused"]
            # snmpsim answers within 0.3 s unless the machine is loaded: give the healthy
            # OLTs the job-level retries a production job has
            retried = make_job("Descubrir", COLUMNS, max_retries=2, retry_delay_seconds=1,
                               olt_ids=tuple(o for o, k in kinds.items() if k == "healthy"))
            once = make_job("Descubrir sin reintento", COLUMNS, max_retries=0, olt_ids=tuple(
                o for o, k in kinds.items() if k in ("silent", "lossy") or o in refused[2:]))
            twice = make_job("Descubrir con reintento", COLUMNS, max_retries=1,
                             retry_delay_seconds=0, olt_ids=tuple(refused[:2]))
        pairs = [(twice if o in refused[:2] else retried if kinds[o] == "healthy" else once, o)
                 for o in kinds]
        with WorkerProcess(tmp_path, _worker_env(pg_database_url, redis_url, tmp_path, **env),
                           threads=THREADS) as worker:
            for _ in range(2):       # warm-up: pools and caches reach their working size
                final_rows(app, send_wave(app, pairs), 60)
            before = worker.settled_fds(ceiling=0, wait_s=1.0)
            rss_before, threads_before = worker.rss_mb(), worker.thread_count()
            started = time.monotonic()
            states: dict[str, dict[str, int]] = {k: {} for k in WAVE}
            examples: dict[str, str] = {}
            series: list[tuple[int, int, int, int]] = []   # fds after each wave
            wave_s: list[float] = []
            for _ in range(executions // len(pairs)):
                wave_started = time.monotonic()
                wave = final_rows(app, send_wave(app, pairs), 60)
                wave_s.append(time.monotonic() - wave_started)
                for row in wave.values():
                    counts = states[kinds[row.olt_id]]
                    counts[row.status] = counts.get(row.status, 0) + 1
                    if row.error_message:
                        examples.setdefault(f"{kinds[row.olt_id]} {row.status}",
                                            row.error_message)
                between = worker.fds()
                series.append((between["total"], between[redis_fd], between[pg_fd],
                               between["udp"]))
            wall_s = time.monotonic() - started
            after = worker.settled_fds(ceiling=before["total"])
            rss_after, threads_after = worker.rss_mb(), worker.thread_count()
            alive = worker.alive()
    finally:
        for part in mutes + links:
            part.__exit__(None, None, None)

    done = sum(sum(c.values()) for c in states.values())
    growth_kb = (rss_after - rss_before) * 1024 / max(1, done)
    reliability.record(
        "leak", f"{done} ejecuciones (sanas, puerto cerrado, OLT muda, enlace con pérdida) en "
                "un proceso trabajador",
        executions=done, fds_before=before["total"], fds_after=after["total"],
        fd_kinds_before=dict(before), fd_kinds_after=dict(after),
        rss_mb_before=round(rss_before, 1), rss_mb_after=round(rss_after, 1),
        rss_growth_kb_per_execution=round(growth_kb, 2), wall_s=round(wall_s, 1),
        threads_before=threads_before, threads_after=threads_after,
        wave_s_first_last_max=[round(wave_s[0], 2), round(wave_s[-1], 2), round(max(wave_s), 2)],
        executions_per_s=round(done / wall_s, 1), states=states, messages=examples,
        lossy_links={k: sum(link.stats[k] for link in links) for k in links[0].stats},
        fds_per_wave_total_redis_pg_udp=series)

    assert alive, worker.log_text()[-2000:]
    assert done == executions - executions % len(pairs)
    assert states["healthy"] == {SUCCESS: done * WAVE["healthy"] // len(pairs)}
    assert states["refused"] == {FAILED: done * WAVE["refused"] // len(pairs)}
    assert states["silent"] == {FAILED: done * WAVE["silent"] // len(pairs)}
    assert set(states["lossy"]) <= {SUCCESS, FAILED}
    assert after["udp"] == 0 and max(s[3] for s in series) == 0, series    # SNMP sockets
    assert after[pg_fd] <= before[pg_fd], (before, after)         # fixed-size pool
    assert after[redis_fd] <= REDIS_POOL_MAX, (before, after)
    assert (after["total"] - after[redis_fd]
            <= before["total"] - before[redis_fd] + FD_TOLERANCE), (before, after)
    assert threads_after <= threads_before, (threads_before, threads_after)  # renewers, beats
    assert growth_kb <= RSS_KB_PER_EXECUTION_MAX, (rss_before, rss_after)
