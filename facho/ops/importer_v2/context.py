"""What one import run carries from table to table: the old database, the report, the
options, and which Facho row each old row became (old id -> Facho row), so a job host finds
its job and OLT, and an ONU its OLT."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from facho.ops.importer_v2.report import Report
from facho.ops.importer_v2.source import OldDatabase

SCOPES = ("catalogo", "inventario", "ejecuciones")
SCOPE_LABELS = {"catalogo": "catálogo", "inventario": "catálogo + inventario",
                "ejecuciones": "catálogo + inventario + ejecuciones"}


@dataclass
class Options:
    scope: str = "catalogo"
    days: int = 30                 # executions of the last N days (scope "ejecuciones")
    cron_tz: str = "UTC"           # zone the old cron expressions are given in Facho
    simulate: bool = False


@dataclass
class Context:
    old: OldDatabase
    report: Report
    options: Options
    # progress(label, total) -> callable(n) advancing by n; the CLI passes a bar
    progress: Callable[[str, int], Callable[[int], None]] | None = None
    brand_names: dict[int, str] = field(default_factory=dict)       # old marca id -> name
    model_names: dict[int, str] = field(default_factory=dict)       # old model id -> name
    brands: dict[int, Any] = field(default_factory=dict)            # old id -> Brand
    olts: dict[int, Any] = field(default_factory=dict)              # old id -> Olt
    oids: dict[int, Any] = field(default_factory=dict)              # old id -> Oid
    jobs: dict[int, Any] = field(default_factory=dict)              # old id -> SnmpJob
    job_hosts: dict[int, Any] = field(default_factory=dict)         # old id -> SnmpJobHost
    formulas: dict[tuple[int, str], dict] = field(default_factory=dict)  # (brand id, modelo)

    def advance(self, label: str, total: int) -> Callable[[int], None]:
        if self.progress is None:
            return lambda n: None
        return self.progress(label, total)
