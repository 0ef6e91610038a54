"""Importing a large Facho v2 database: time and peak memory of `flask facho importar-v2`.

    .venv/bin/python -m bench.bench_import [--olts 500] [--onus 400] [--targets postgresql,sqlite]

Builds the old database in PostgreSQL (the tests' schema and scenario, tests/ops/facho_v2_db.py,
plus `--olts` Huawei OLTs of `--onus` ONUs each in all three inventory tables), then, for each
target (a PostgreSQL database of its own, or a SQLite file), runs the importer with scope
"inventario" in a child process twice: the first run creates everything, the second finds
everything unchanged. Reported per run: wall time, ONUs per second and the child's peak
resident memory (VmHWM, the whole Python process). Writes `bench/results/import.json`.
Every database is created here and dropped at the end. Figures, not pass/fail.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from tests.ops.facho_v2_db import admin_url, fill, fill_large, old_database  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "import.json"

CHILD = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from app import create_app
    from facho.config import load_config
    from facho.extensions import db
    from facho.ops.importer_v2 import Options, run_import
    app = create_app(load_config({{
        "FACHO_ENV": "testing", "DATABASE_URL": {target!r}, "FACHO_VAR_DIR": {var!r},
        "REDIS_URL": "redis://127.0.0.1:6379/15", "SECRET_KEY": "bench-secret-key-0123456789"}}))
    runs = []
    with app.app_context():
        db.drop_all()
        db.create_all()
        for _ in range(2):
            started = time.perf_counter()
            report = run_import({old!r}, Options(scope="inventario"))
            onus = report.tablas["onu_index_map + onu_status + onu_inventory"]
            runs.append({{"seconds": round(time.perf_counter() - started, 2),
                          "onus_created": onus.creados, "onus_unchanged": onus.sin_cambios,
                          "changes": report.changes}})
        db.engine.dispose()
    hwm = next(int(l.split()[1]) for l in Path("/proc/self/status").read_text().splitlines()
               if l.startswith("VmHWM:"))
    print(json.dumps({{"runs": runs, "peak_rss_mb": round(hwm / 1024, 1)}}))
""")


def _target_pg(name: str):
    admin = admin_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{admin.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://')}/{name}"


def _drop_pg(name: str) -> None:
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(old: str, target: str, var: str) -> dict:
    script = CHILD.format(root=str(ROOT), target=target, var=var, old=old)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_import")
    parser.add_argument("--olts", type=int, default=500)
    parser.add_argument("--onus", type=int, default=400, help="ONUs per OLT")
    parser.add_argument("--targets", default="postgresql,sqlite")
    args = parser.parse_args(argv)
    results = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores",
               "olts": args.olts, "onus": args.olts * args.onus, "targets": {}}
    with old_database(f"facho_bench_v2_{os.getpid()}") as old:
        started = time.perf_counter()
        fill(old)
        fill_large(old, args.olts, args.onus)
        results["old_database_built_s"] = round(time.perf_counter() - started, 1)
        for target in args.targets.split(","):
            with tempfile.TemporaryDirectory(prefix="facho-bench-import-") as var:
                if target == "sqlite":
                    got = measure(old, f"sqlite:///{var}/facho.db", var)
                else:
                    name = f"facho_bench_import_{os.getpid()}"
                    try:
                        got = measure(old, _target_pg(name), var)
                    finally:
                        _drop_pg(name)
            for run in got["runs"]:
                run["onus_per_s"] = round((run["onus_created"] + run["onus_unchanged"])
                                          / run["seconds"])
            results["targets"][target] = got
            first, second = got["runs"]
            print(f"{target:10} first run {first['seconds']:7.1f} s "
                  f"({first['onus_per_s']} ONUs/s, {first['onus_created']} created)   "
                  f"second run {second['seconds']:7.1f} s ({second['changes']} changes)   "
                  f"peak RSS {got['peak_rss_mb']} MB", flush=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
