"""Helpers for the panel tests (no tests here): form posts that carry the session's CSRF
token like a browser would, reading pages (flashes, field errors, the list's table, the
dashboard's chart data), rows read back after a request, and the messages it queued."""
from __future__ import annotations

import json
import re
from html import unescape

from facho.messaging import NAMESPACE
from tests.conftest import csrf_token_from


def fetch(app, model, id_):
    """A detached copy of one row's current state (None when it does not exist)."""
    from facho.extensions import db
    with app.app_context():
        obj = db.session.get(model, id_)
        if obj is not None:
            db.session.expunge(obj)
        return obj


def count(app, model, **filters) -> int:
    from facho.extensions import db
    with app.app_context():
        return db.session.query(model).filter_by(**filters).count()


def token(client) -> str:
    return csrf_token_from(client.get("/admin/").get_data(as_text=True))


def post(client, url, data, **kw):
    """POST a panel form with a valid CSRF token; returns the final page."""
    payload = dict(data)
    payload["csrf_token"] = token(client)
    return client.post(url, data=payload, follow_redirects=kw.pop("follow", True), **kw)


def run_action(client, endpoint, action, ids, with_token=True):
    data = {"action": action, "rowid": [str(i) for i in ids], "url": f"/admin/{endpoint}/"}
    if with_token:
        data["csrf_token"] = token(client)
    return client.post(f"/admin/{endpoint}/action/", data=data, follow_redirects=with_token)


def text(response) -> str:
    return response.get_data(as_text=True)


def field_errors(html: str) -> dict[str, list[str]]:
    """Messages rendered under each field: {field id: [messages]} (unescaped text)."""
    errors = {}
    for group in html.split('<div class="form-group')[1:]:
        field = re.search(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', group)
        block = re.search(r'<div class="invalid-feedback">(.*?)</div>', group, flags=re.S)
        if field and block:
            errors[field.group(1)] = [unescape(re.sub(r"\s+", " ", li)).strip()
                                      for li in re.findall(r"<li>(.*?)</li>", block.group(1),
                                                           flags=re.S)]
    return errors


def table(page: str) -> str:
    """Only the list's table (filter menus elsewhere on the page also carry names)."""
    match = re.search(r'<table[^>]*model-list.*?</table>', page, flags=re.S)
    return match.group(0) if match else ""


def alerts(page: str) -> list[tuple[str, str]]:
    """(bootstrap class, text) of every flashed message on the page, in order."""
    found = re.findall(r'<div class="alert alert-(\w+) alert-dismissable">\s*'
                       r'<button[^>]*>&times;</button>\s*(.*?)\s*</div>', page, flags=re.S)
    return [(kind, unescape(message).strip()) for kind, message in found]


def chart_json(page: str) -> dict:
    """The dashboard's chart data (the JSON block the page's script reads)."""
    raw = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>',
                    page, flags=re.S).group(1)
    return json.loads(raw)


def queued_message_ids(redis_client, queue="discovery_main") -> set[str]:
    return {json.loads(raw)["message_id"]
            for raw in redis_client.hvals(f"{NAMESPACE}:{queue}.msgs")}
