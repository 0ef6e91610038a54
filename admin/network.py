""""Red": the NOC's views of the network, read-only, staff only.

- `/admin/red/`: the first screen of the morning: the worst PONs of every OLT (most
  offline ONUs, or worst average rx power) and every OLT's figures with its last walk;
- `/admin/red/olt/<id>/`: one OLT: its figures and a grid of its slots and ports;
- `/admin/red/pon/<olt>/<slot>/<port>/`: one PON: figures, worst 10 ONUs, its ONUs, the
  events of the last 24 h;
- `/admin/red/onu/<id>/`: one ONU: position, serial, state, charts over 24 h / 7 d / 30 d /
  1 year, its events and the executions that read it;
- `/admin/red/buscar/?q=`: the search box of every page (`facho.inventory.search`).

The figures come from `facho.inventory.network`, the ONU page's data from
`facho.inventory.onu_page`; this module only reads the request and renders.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import abort, current_app, redirect, request, url_for
from flask_admin import BaseView, expose

from admin import formatters as fmt
from admin.security import StaffOnly
from facho import models as m
from facho.extensions import db
from facho.inventory import identity, network, onu_page, search
from facho.inventory.events import kinds
from facho.inventory.events import store as events
from facho.inventory.events.classify import CAUSE_NAMES, cause_class
from facho.models import utcnow

EVENTS_HOURS = 24
WORST_LIMIT = 50
ORDER_NAMES = {"desconectadas": "Más desconectadas", "potencia": "Peor potencia promedio"}


def event_rows(rows) -> list[dict]:
    """Events as the tables show them, with their ONU's name."""
    ids = {e.onu_id for e in rows}
    names = dict(db.session.execute(sa.select(m.Onu.id, m.Onu.name)
                                    .where(m.Onu.id.in_(ids))).all()) if ids else {}
    return [{"at": fmt.local_time(e.at), "kind": kinds.KIND_NAMES.get(e.kind, e.kind),
             "onu_name": names.get(e.onu_id),
             "code": e.kind, "text": kinds.describe(e.kind, e.old_value, e.new_value, e.cause),
             "cause": CAUSE_NAMES.get(cause_class(e.cause)) if e.cause else None,
             "onu_id": e.onu_id, "pon": f"0/{e.slot}/{e.port}", "execution_id": e.execution_id}
            for e in rows]


class NetworkView(StaffOnly, BaseView):
    @expose("/")
    def index(self):
        order = request.args.get("orden", "desconectadas")
        if order not in network.ORDERS:
            order = "desconectadas"
        every = network.pons()          # one pass over the ONUs for both lists
        walks = network.last_walks()
        return self.render("admin/red/index.html", order=order, order_names=ORDER_NAMES,
                           worst=network.worst_pons(order, WORST_LIMIT, every),
                           olts=network.olts_of(every),
                           walks={k: (fmt.local_time(w.finished_at), w) for k, w in walks.items()})

    @expose("/olt/<int:olt_id>/")
    def olt_view(self, olt_id: int):
        olt = db.session.get(m.Olt, olt_id) or abort(404)
        pons = network.pons(olt_id)
        totals = network.olts_of(pons)
        grid: dict[int | None, list] = {}
        for stats in pons:
            grid.setdefault(stats.slot, []).append(stats)
        walk = network.last_walks([olt_id]).get(olt_id)
        since = utcnow() - timedelta(hours=EVENTS_HOURS)
        return self.render("admin/red/olt.html", olt=olt, stats=totals[0] if totals else None,
                           grid=sorted(grid.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)),
                           walk=walk, walk_at=fmt.local_time(walk.finished_at) if walk else None,
                           rebooted=fmt.local_time(olt.rebooted_at) if olt.rebooted_at else None,
                           up_for=fmt.ago(olt.uptime_s) if olt.uptime_s is not None else None,
                           events=event_rows(events.recent(olt_id=olt_id, since=since)))

    @expose("/pon/<int:olt_id>/<int:slot>/<int:port>/")
    def pon_view(self, olt_id: int, slot: int, port: int):
        olt = db.session.get(m.Olt, olt_id) or abort(404)
        stats = network.pon(olt_id, slot, port)
        if stats is None:
            abort(404)
        since = utcnow() - timedelta(hours=EVENTS_HOURS)
        return self.render("admin/red/pon.html", olt=olt, stats=stats,
                           worst=network.worst_onus(olt_id, slot, port),
                           onus=network.pon_onus(olt_id, slot, port),
                           events=event_rows(events.recent(olt_id=olt_id, slot=slot,
                                                           port=port, since=since)),
                           status_badge=fmt.onu_status_badge)

    @expose("/onu/<int:onu_id>/")
    def onu_view(self, onu_id: int):
        onu = db.session.get(m.Onu, onu_id) or abort(404)
        code = request.args.get("rango", onu_page.DEFAULT_RANGE)
        rng = onu_page.RANGES.get(code) or onu_page.RANGES[onu_page.DEFAULT_RANGE]
        timezone = current_app.config["FACHO"].timezone
        charts = dict(onu_page.chart_data(onu, rng, utcnow()), timezone=timezone)
        return self.render("admin/red/onu.html", onu=onu, rng=rng, ranges=onu_page.RANGES,
                           charts=charts, timezone=timezone,
                           elsewhere=identity.elsewhere(onu.id, onu.olt_id, onu.serial),
                           events=event_rows(events.recent(onu_id=onu.id, limit=100)),
                           executions=onu_page.executions_of(onu),
                           status_badge=fmt.onu_status_badge,
                           execution_badge=fmt.execution_status_badge,
                           local_time=fmt.local_time)

    @expose("/buscar/")
    def search_view(self):
        text = request.args.get("q", "")
        try:
            query = search.parse(text)
        except search.SearchError as exc:
            return self.render("admin/red/search.html", q=text, error=str(exc), found=None)
        found = search.find(query)
        if len(found.onus) == 1 and not found.more:
            return redirect(url_for(".onu_view", onu_id=found.onus[0][0].id))
        return self.render("admin/red/search.html", q=text, error=None, found=found,
                           status_badge=fmt.onu_status_badge)
