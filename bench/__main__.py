"""`python -m bench [NAME ...] [-- OPTIONS]`: run the benchmarks.

With no name, every `bench/bench_*.py` module runs, in name order; `python -m bench
scheduler` runs `bench_scheduler` only (`python -m bench scheduler snmp` runs both).
Options after `--` go to each module (for example `python -m bench scheduler -- --quick`).
Each module prints its table and keeps its last results in `bench/results/<name>.json`.
"""
from __future__ import annotations

import importlib
import inspect
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def available() -> list[str]:
    return sorted(p.stem[len("bench_"):] for p in HERE.glob("bench_*.py"))


def run(name: str, options: list[str]) -> None:
    module = importlib.import_module(f"bench.bench_{name}")
    main = getattr(module, "main")
    saved = sys.argv
    sys.argv = [f"python -m bench.bench_{name}", *options]
    try:
        if inspect.signature(main).parameters:
            main(options)
        else:
            main()
    finally:
        sys.argv = saved


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    options: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, options = argv[:cut], argv[cut + 1:]
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        print("available:", ", ".join(available()))
        return 0
    names = [a[len("bench_"):] if a.startswith("bench_") else a for a in argv] or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: "
              f"{', '.join(available())}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        print(f"\n=== bench {name} ===", flush=True)
        started = time.monotonic()
        try:
            run(name, options)
        except SystemExit as exc:
            if exc.code not in (0, None):
                failed.append(name)
        except Exception as exc:  # noqa: BLE001 - report and go on with the others
            print(f"bench {name} failed: {exc!r}", file=sys.stderr)
            failed.append(name)
        print(f"=== bench {name}: {time.monotonic() - started:.0f} s ===", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
