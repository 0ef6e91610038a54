"""One import run: open the old database read-only, map every table of the scope in
dependency order inside ONE Facho transaction, then commit — or roll back when simulating
or when anything fails, so an error never leaves half an import behind.

Order: brands, OLTs (models as their text), OIDs, formulas (they need the OLTs' brands and
indexes), jobs, job hosts, state labels; then the inventory; then the executions.
"""
from __future__ import annotations

import logging

import psycopg
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from facho.extensions import db
from facho.ops.importer_v2.catalogue import import_brands, import_oids, import_olts
from facho.ops.importer_v2.context import SCOPE_LABELS, SCOPES, Context, Options
from facho.ops.importer_v2.executions import import_executions
from facho.ops.importer_v2.index_formulas import import_formulas
from facho.ops.importer_v2.inventory import import_onus
from facho.ops.importer_v2.jobs import import_job_hosts, import_jobs
from facho.ops.importer_v2.report import Report
from facho.ops.importer_v2.source import ImporterError, OldDatabase
from facho.ops.importer_v2.states import import_states

log = logging.getLogger(__name__)


def _catalogue(ctx: Context) -> None:
    import_brands(ctx)
    import_olts(ctx)
    import_oids(ctx)
    import_formulas(ctx)
    import_jobs(ctx, current_app.config["FACHO"].min_interval_s)
    import_job_hosts(ctx)
    import_states(ctx)
    for name, what in (("configuracion_sistema", "parámetros del sistema"),
                       ("configuracion_snmp", "parámetros SNMP")):
        ctx.report.no_importado.append(
            f"{name} ({ctx.old.count(name)} {what}): la configuración de Facho viene del "
            "entorno (variables FACHO_…), no de la base")


def run_import(url: str, options: Options, progress=None) -> Report:
    """Import from the old database at ``url``; returns the report. ImporterError (Spanish)
    when the run cannot be done; nothing is then written to Facho."""
    if options.scope not in SCOPES:
        raise ImporterError(f"alcance desconocido {options.scope!r}: use {', '.join(SCOPES)}")
    report = Report(alcance=SCOPE_LABELS[options.scope], simulado=options.simulate)
    db.session.rollback()     # start from a clean transaction of our own
    try:
        with OldDatabase(url) as old:
            ctx = Context(old=old, report=report, options=options, progress=progress)
            _catalogue(ctx)
            if options.scope in ("inventario", "ejecuciones"):
                import_onus(ctx)
            else:
                report.no_importado.append("inventario de ONUs: fuera del alcance elegido "
                                           "(use --alcance inventario)")
            if options.scope == "ejecuciones":
                import_executions(ctx)
        if options.simulate:
            db.session.rollback()
        else:
            db.session.commit()
    except ImporterError:
        db.session.rollback()
        raise
    except SQLAlchemyError as exc:
        db.session.rollback()
        first = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ImporterError(f"la base de Facho rechazó la importación ({first}); no se "
                            "escribió nada") from None
    except psycopg.Error as exc:
        db.session.rollback()
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ImporterError(f"falló la lectura de la base de Facho v2 ({first}); no se "
                            "escribió nada") from None
    except Exception as exc:
        db.session.rollback()
        # a bug or a row no rule foresaw: the operator gets one line, the log the traceback
        log.exception("importar-v2: error inesperado")
        raise ImporterError(f"error inesperado ({type(exc).__name__}: {exc}); no se escribió "
                            "nada (el detalle está en el registro)") from None
    except BaseException:
        db.session.rollback()
        raise
    return report
