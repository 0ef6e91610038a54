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
