""""⬇ Exportar CSV" on a panel list: the rows the list's current search and filters select
(all pages), streamed by facho.api.csv_export in bounded memory. A GET that changes
nothing, so no CSRF token; staff only like every view."""
from __future__ import annotations

from flask import request
from flask_admin import expose

from facho.api import csv_export


class CsvExportMixin:
    csv_kind = "datos"          # the file name's middle
    csv_columns: list = []      # facho.api.csv_export.*_COLUMNS

    def filtered_query(self):
        """The list's query with the page's search and filters (as Flask-Admin's get_list
        applies them), without sorting or paging."""
        args = self._get_list_extra_args()
        query, joins, count_joins = self.get_query(), {}, {}
        if self._search_supported and args.search:
            query, _, joins, count_joins = self._apply_search(query, None, joins, count_joins,
                                                              args.search)
        if args.filters and self._filters:
            query, _, joins, count_joins = self._apply_filters(query, None, joins,
                                                               count_joins, args.filters)
        return query

    @expose("/exportar.csv")
    def export_csv(self):
        fetch = csv_export.query_fetcher(self.filtered_query(), self.csv_columns,
                                         self.model.id)
        return csv_export.streamed_response(self.csv_kind, self.csv_columns, fetch)

    def export_url(self) -> str:
        """This list's export link, with the page's search and filters."""
        keep = {k: v for k, v in request.args.items(multi=True)
                if k not in ("page", "page_size", "sort", "desc")}
        return self.get_url(".export_csv", **keep)
