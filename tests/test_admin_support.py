"""Helpers for the panel tests (no tests here): rows made directly in the database, and
form posts that carry the session's CSRF token like a browser would."""
from __future__ import annotations

import itertools
import re
from html import unescape
from datetime import datetime, timedelta, timezone

import pytest
from werkzeug.security import generate_password_hash

from tests.conftest import csrf_token_from, login

UTC = timezone.utc
COMMUNITY = "c0munidad-s3creta-xyz"


@pytest.fixture
def staff_client(app):
    """conftest's staff_client, logged in through the same form, but with a cheap password
    hash: scrypt costs 0.25 s per test and test_auth already covers real hashing.
    Import it into a test module to use it there."""
    from facho.models import User
    add(app, User(username="operador", is_staff=True, active=True,
                  password_hash=generate_password_hash("clave-segura-123",
                                                       method="pbkdf2:sha256:1000")))
    client = app.test_client()
    assert login(client).status_code == 302
    return client


def add(app, obj) -> int:
    from facho.extensions import db
    with app.app_context():
        db.session.add(obj)
        db.session.commit()
        return obj.id


def make_brand(app, nombre="Huawei") -> int:
    from facho.models import Brand
    return add(app, Brand(nombre=nombre))


def make_olt(app, brand_id, abreviatura="OLT-1", **kw) -> int:
    from facho.models import Olt
    kw.setdefault("ip_address", "10.0.0.1")
    kw.setdefault("comunidad", COMMUNITY)
    return add(app, Olt(abreviatura=abreviatura, brand_id=brand_id, **kw))


def make_oid(app, brand_id, nombre="Serie", oid="1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3",
             espacio="serial") -> int:
    from facho.models import Oid
    return add(app, Oid(nombre=nombre, oid=oid, brand_id=brand_id, espacio=espacio))


def make_job(app, brand_id, olt_ids=(), nombre="Descubrimiento", **kw) -> int:
    from facho.models import SnmpJob, SnmpJobHost
    kw.setdefault("job_type", "descubrimiento")
    if "cron_expr" not in kw:
        kw.setdefault("interval_raw", "5m")
    kw.setdefault("anchor_at", datetime(2024, 1, 1, tzinfo=UTC))
    kw.setdefault("next_run_at", datetime(2030, 1, 1, tzinfo=UTC))
    job = SnmpJob(nombre=nombre, brand_id=brand_id, **kw)
    job.job_hosts = [SnmpJobHost(olt_id=olt_id) for olt_id in olt_ids]
    return add(app, job)


_slots = itertools.count()


def make_execution(app, job_id, olt_id, status="PENDING", **kw) -> int:
    """A scheduled execution (its own slot, so several may be active for one pair)."""
    from facho.models import Execution, SnmpJobHost
    from facho.extensions import db
    kw.setdefault("scheduled_for", datetime(2030, 1, 1, tzinfo=UTC)
                  + timedelta(minutes=next(_slots)))
    with app.app_context():
        host = db.session.query(SnmpJobHost).filter_by(job_id=job_id, olt_id=olt_id).first()
    kw.setdefault("job_host_id", host.id if host else None)
    return add(app, Execution(job_id=job_id, olt_id=olt_id, status=status, **kw))


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
