"""Collects the figures of the reliability suite and writes them as one JSON document.

A test records entries while it runs (`reliability.record("fault", "worker SIGKILL…",
executions=50, …)`); the entry's `outcome` is the test's own outcome, filled in after the
test, so a figure recorded just before a failing assertion is reported as failed, never as
survived. Kinds: `fault`, `load`, `bad_input`, `leak`, `security`.
"""
from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("fault", "load", "bad_input", "leak", "security")


@dataclass
class Entry:
    kind: str
    name: str
    test: str
    figures: dict
    outcome: str = "running"


@dataclass
class Report:
    entries: list[Entry] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    def add(self, kind: str, name: str, test: str, figures: dict) -> Entry:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; one of {KINDS}")
        entry = Entry(kind, name, test, _plain(figures))
        self.entries.append(entry)
        return entry

    def settle(self, test: str, outcome: str) -> None:
        for entry in self.entries:
            if entry.test == test and entry.outcome == "running":
                entry.outcome = outcome

    def document(self, long_run: bool) -> dict:
        by_kind = {kind: [] for kind in KINDS}
        for e in self.entries:
            by_kind[e.kind].append({"name": e.name, "outcome": e.outcome, "test": e.test,
                                    **e.figures})
        return {
            "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "duration_s": round(time.time() - self.started, 1),
            "long_part_included": long_run,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "system": platform.platform()},
            "totals": {kind: {"entries": len(rows),
                              "passed": sum(r["outcome"] == "passed" for r in rows)}
                       for kind, rows in by_kind.items()},
            **by_kind,
        }

    def write(self, path: str | Path, long_run: bool) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.document(long_run), indent=2, sort_keys=False) + "\n")
        tmp.replace(path)

    def lines(self) -> list[str]:
        """One line per entry: outcome, kind, name and its figures (for the terminal)."""
        out = []
        for e in self.entries:
            figures = " ".join(f"{k}={_short(v)}" for k, v in e.figures.items())
            out.append(f"{e.outcome:7} {e.kind:9} {e.name}: {figures}")
        return out


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."


def _plain(value):
    """JSON-safe copy (floats rounded to 4 significant decimals, tuples as lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, (int, str, bool)) or value is None:
        return value
    return str(value)


def markdown(document: dict) -> str:
    """The README table of a written report: one row per entry, its figures inline."""
    rows = ["| kind | what | outcome | figures |", "|---|---|---|---|"]
    for kind in KINDS:
        for entry in document.get(kind, []):
            figures = ", ".join(f"{k} {_short(v)}" for k, v in entry.items()
                                if k not in ("name", "outcome", "test"))
            rows.append(f"| {kind} | {entry['name']} | {entry['outcome']} | {figures} |")
    totals = document.get("totals", {})
    summary = ", ".join(f"{k}: {v['passed']}/{v['entries']}" for k, v in totals.items()
                        if v["entries"])
    return "\n".join(rows) + f"\n\nPassed per kind: {summary}; run of {document['duration_s']} s" \
        f" on {document['generated_at']} (long part {'included' if document['long_part_included'] else 'not included'})."


if __name__ == "__main__":
    import sys
    source = sys.argv[1] if len(sys.argv) > 1 else "bench/results/reliability.json"
    print(markdown(json.loads(Path(source).read_text())))
