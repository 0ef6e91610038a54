"""Benchmarks (`python -m bench [NAME ...]`): figures, not pass/fail timings."""
from __future__ import annotations

from pathlib import Path


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident memory of a live process in MB (Linux VmHWM), or None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def procfile_threads() -> int:
    """The worker's --threads as the Procfile ships it (what the benchmarks run with)."""
    import re
    procfile = (Path(__file__).resolve().parent.parent / "Procfile").read_text()
    return int(re.search(r"^worker:.*--threads (\d+)", procfile, re.M).group(1))


def write_results(path: Path, results: dict) -> None:
    """Keep a benchmark's last results (`bench/results/<name>.json`) and say where."""
    import json
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten {path.relative_to(path.parent.parent.parent)}")
