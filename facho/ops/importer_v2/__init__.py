"""Importer from the predecessor "Facho Deluxe v2" (Django + Celery) database
(`flask facho importar-v2`, issue 16). One module per concept:

- ``source``: the old database, read-only, its schema checked;
- ``catalogue`` (brands, OLTs, OIDs), ``formulas`` (pure conversion of the old index
  formulas, wildcards) and ``index_formulas`` (their rows), ``jobs`` (jobs, job hosts,
  crons), ``states`` (state labels), ``inventory`` (ONUs), ``executions`` (history):
  the mapping, each rule once;
- ``write`` (find by natural key, create / update / leave), ``report`` (the Spanish
  report), ``context`` (what a run carries), ``run`` (one transaction, dry run).

The mapping is documented in docs/importer-v2.md.
"""
from facho.ops.importer_v2.context import SCOPES, Options
from facho.ops.importer_v2.report import Report, render
from facho.ops.importer_v2.run import run_import
from facho.ops.importer_v2.source import ImporterError

__all__ = ["SCOPES", "ImporterError", "Options", "Report", "render", "run_import"]
