"""Panel pages and CLI commands of the running app, enumerated (never listed by hand), and
the rules that tell an explained outage page from a bare error.

Shared by the outage, form-fuzz and security-audit tests of the reliability suite.
"""
from __future__ import annotations

import re

from facho.extensions import db
from facho import models as m

# A community string nobody would type by chance: grep for it anywhere it must not be.
SECRET_COMMUNITY = "zQ9-secreta-comunidad-7Xk"
SKIPPED_ENDPOINTS = {"static", "admin.static"}
SPANISH_OUTAGE_WORDS = ("no responde", "Qué hacer")
TRACEBACK_MARKS = ("Traceback (most recent call last)", "werkzeug.debug", "__debugger__")


def seed_panel(app) -> None:
    """One row of every model the panel lists, with a secret community and a failed
    execution whose message the panel shows."""
    from datetime import timedelta

    from tests import factories as f
    with app.app_context():
        olt = f.olt("OLT-UI", comunidad=SECRET_COMMUNITY, modelo="MA5800")
        db.session.add(m.Oid(nombre="Serial UI", oid="1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3",
                             brand=olt.brand, espacio="serial"))
        db.session.add(m.IndexFormula(nombre="Huawei UI", brand=olt.brand, kind="linear",
                                      params={"kind": "linear", "base": 4194304000,
                                              "step_slot": 8192, "step_port": 256}))
        job = f.job("descubrir-ui", olts=[olt])
        host = job.job_hosts[0]
        now = m.utcnow()
        db.session.add(m.Execution(job=job, olt=olt, job_host=host, status=m.FAILED,
                                   error_message="Sin respuesta SNMP (timeout)",
                                   created_at=now - timedelta(minutes=3),
                                   finished_at=now - timedelta(minutes=2)))
        db.session.add(m.Onu(olt=olt, raw_index="4194312448.5", slot=1, port=1, onu_id=5,
                             name="0/1/1:5", serial="HWTCA3B1799D"))
        db.session.commit()


def model_views(app) -> dict[str, object]:
    """endpoint -> Flask-Admin model view, for every model view the panel registers."""
    panel = app.extensions["admin"][0]
    return {view.endpoint: view for view in panel._views if getattr(view, "model", None)}


def first_ids(app) -> dict[str, int]:
    """endpoint -> id of the first row of that view's model (read while the DB is up)."""
    with app.app_context():
        return {endpoint: db.session.scalar(db.select(view.model.id).order_by(view.model.id))
                for endpoint, view in model_views(app).items()}


def panel_get_urls(app, ids: dict[str, int]) -> list[tuple[str, str]]:
    """(endpoint, url) for every GET route of the app; details and edit pages with the id
    of a real row, so they render a record instead of redirecting to the list."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "1", rule.rule)
        prefix, _, view_name = rule.endpoint.partition(".")
        if view_name in ("details_view", "edit_view") and ids.get(prefix):
            url += f"?id={ids[prefix]}"
        urls.append((rule.endpoint, url))
    return urls


def verdict(response) -> str:
    """`ok` (below 500 and no traceback), `explained` (a 503 in Spanish that says what is
    down and what to do) or `unexplained` (any other 5xx, or a traceback in the body)."""
    body = response.get_data(as_text=True)
    if any(mark in body for mark in TRACEBACK_MARKS):
        return "unexplained"
    if response.status_code < 500:
        return "ok"
    if response.status_code == 503 and all(w in body for w in SPANISH_OUTAGE_WORDS):
        return "explained"
    if response.status_code == 503 and response.is_json:   # /healthz: says which part
        data = response.get_json()
        if data.get("status") == "error" and False in data.values():
            return "explained"
    return "unexplained"


def fetch(client, url: str, method: str = "GET", **kwargs):
    """The response, or None when the exception escaped the app (a 500 in production)."""
    try:
        return client.open(url, method=method, **kwargs)
    except Exception:  # noqa: BLE001 - counted as an unexplained 5xx by the caller
        return None


def cli_commands(app) -> dict[str, object]:
    """name -> click command of `flask facho`."""
    group = app.cli.commands["facho"]
    return dict(group.commands)


# Arguments that make each command do its real work (not print its help).
CLI_ARGS = {
    "create-user": ["noc-fuera", "--staff"],
    "seed": [],
    "ensure-admin": [],
    "embedded-redis": ["status"],
    "status": [],
    "recent": ["--json"],
    "tasks": [],
    "workers": [],
    "locks": [],
    "recover": [],
    "run": ["descubrir-ui"],
    "restart": ["--espera", "1"],
    "demo": ["--onus", "4"],
    "simulate-olt": None,     # serves UDP until Ctrl-C and needs neither Redis nor the DB
    # an old database nobody serves: the command must still speak of Facho's own first
    "importar-v2": ["--desde", "postgresql://127.0.0.1:1/facho_v2", "--simular"],
}
