"""Panel lists at ISP scale (issue 15): 10 M executions, 1 M ONUs, 2,000 OLTs.

- **Counts** (`CountQuery`): Flask-Admin counts every page with `count(*)`, linear in the
  rows (65 ms at 1 M executions). The count asks `facho.row_counts` instead: the planner's
  estimate above 20,000 rows, shown "≈ 10 000 000 ejecuciones", exact below it; SQLite
  always counts. With an estimated count the pager stops at `MAX_ESTIMATED_PAGES` pages:
  a page is an OFFSET, and page 400,000 of 10 M rows would read them all; older rows are
  one filter (date, OLT, state) away. A small count is run after the page's rows, and
  only when the first page is full: a search that finds 3 ONUs counts them from the page
  (the trigram search is then one index scan, not two).
- **Sorting** (`sort_refused`): a sort no index serves reads and sorts every row (17 s by
  duration at 10 M executions). A view lists the columns its indexes serve in
  `scale_sortable`; over an estimated count any other sort falls back to the default
  order with a notice ("filtre primero"); over an exact count (under 20,000 rows) every
  column sorts.
- **Searchable filters** (`AjaxEqualFilter`): an "OLT igual a" filter that put 2,000
  options in every page (150–180 kB) carries none; select2 asks the view's ajax lookup
  (Flask-Admin's `form_ajax_refs` loaders) as the operator types
  (`static/js/ajax_filters.js`).
"""
from __future__ import annotations

from flask import g
from flask_admin.contrib.sqla.filters import IntEqualFilter
from markupsafe import Markup
from sqlalchemy import func
from sqlalchemy.orm import Query

from facho import models as m
from facho import row_counts

AJAX_FILTER_TYPE = "facho-ajax"
MAX_ESTIMATED_PAGES = 500


def grouped(number: int) -> str:
    """10000000 -> "10 000 000" (no-break spaces: the number never wraps)."""
    return f"{number:,}".replace(",", "\u00a0")


ESTIMATE_HINT = ("Cantidad estimada por PostgreSQL a partir de las estadísticas de la tabla "
                 "(contar millones de filas en cada página la haría lenta). Con filtros que "
                 f"dejen menos de {grouped(row_counts.EXACT_BELOW)} filas la cantidad es "
                 "exacta.")


class EstimatedCount(int):
    """An estimated row count: an int for Flask-Admin's pager, "≈ 10 000 000 ejecuciones"
    where the list template prints it."""

    estimated = True

    def __new__(cls, rows: int, noun: str):
        value = super().__new__(cls, rows)
        value.noun = noun
        return value

    def __str__(self) -> str:
        return f"≈\u00a0{grouped(int(self))} {self.noun}"

    def __html__(self) -> Markup:
        return Markup('<span class="facho-count" data-count-estimated="1" title="{}">{}</span>'
                      ).format(ESTIMATE_HINT, str(self))


class CountQuery(Query):
    """Flask-Admin's count query (filters and joins are applied to it as usual); its
    `scalar()` is the planner's estimate when `facho.row_counts` says it is worth showing,
    else the exact count (now, or after the page's rows: `PendingCount`)."""

    count_noun = "filas"

    def scalar(self):
        estimate = row_counts.estimate(self.session, self.statement)
        g.facho_count_estimated = row_counts.worth_estimating(estimate)
        if g.facho_count_estimated:
            return EstimatedCount(estimate, self.count_noun)
        if g.pop("facho_defer_count", False):
            return PendingCount(self)
        return super().scalar()


class PendingCount:
    """An exact count not run yet (see the module's docstring): `resolve` after the rows."""

    def __init__(self, query: CountQuery) -> None:
        self.query = query

    def resolve(self, page: int | None, rows, page_size: int | None) -> int:
        """`page_size` 0 means no limit: every row is on the page."""
        if not page and (not page_size or len(rows) < page_size):
            return len(rows)
        return int(Query.scalar(self.query) or 0)


def count_query(session, model, noun: str) -> CountQuery:
    query = CountQuery([func.count("*")], session=session).select_from(model)
    query.count_noun = noun
    return query


def pager_kwargs(count, num_pages) -> dict:
    """Template arguments of the pager: capped pages when the count is an estimate."""
    estimated = bool(getattr(count, "estimated", False))
    capped = estimated and num_pages is not None and num_pages > MAX_ESTIMATED_PAGES
    out = {"count_estimated": estimated, "pages_capped": capped,
           "max_estimated_pages": MAX_ESTIMATED_PAGES}
    if capped:
        out["num_pages"] = MAX_ESTIMATED_PAGES
    return out


def sort_refused(view, sort_column) -> str | None:
    """The label of a sort column refused for this page (see the module's docstring), or
    None. Called after the count, before the sort."""
    allowed = getattr(view, "scale_sortable", None)
    if (sort_column is None or allowed is None or sort_column in allowed
            or not g.get("facho_count_estimated")):
        return None
    return str(view.column_labels.get(sort_column, sort_column))


class AjaxEqualFilter(IntEqualFilter):
    """"igual a" on a foreign key with too many choices to list in the page (OLTs, jobs):
    the choices come from the view's `form_ajax_refs[ref]` loader as the operator types."""

    def __init__(self, column, name, ref: str):
        super().__init__(column, name, data_type=AJAX_FILTER_TYPE)
        self.ajax_ref = ref


def olt_ref() -> dict:
    """`form_ajax_refs` entry: OLTs by abbreviation (what the lists show)."""
    return {"fields": [m.Olt.abreviatura], "order_by": m.Olt.abreviatura}


def job_ref() -> dict:
    return {"fields": [m.SnmpJob.nombre], "order_by": m.SnmpJob.nombre}


def ajax_filters(view, filter_groups, active_filters) -> dict:
    """{filter arg: {"url", "labels": {value: text}}} for static/js/ajax_filters.js: where
    each searchable filter asks, and the names of the values already applied."""
    out: dict[str, dict] = {}
    by_index = {item["index"]: item for items in (filter_groups or {}).values()
                for item in items}
    for index, item in by_index.items():
        flt = view._filters[index]
        if isinstance(flt, AjaxEqualFilter):
            out[item["arg"]] = {"url": view.get_url(".ajax_lookup", name=flt.ajax_ref),
                                "labels": {}}
    for index, _, value in active_filters or ():
        flt = view._filters[index]
        if isinstance(flt, AjaxEqualFilter) and index in by_index:
            loader = view._form_ajax_refs.get(flt.ajax_ref)
            text = str(value).strip()
            found = loader.format(loader.get_one(int(text))) if text.isdigit() else None
            out[by_index[index]["arg"]]["labels"][str(value)] = (
                str(found[1]) if found else f"#{text}")
    return out
