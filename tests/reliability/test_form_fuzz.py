"""Hypothesis through the real panel forms (issue 6, bad input): every text field of every
create form, posted by a logged-in staff client with its CSRF token, on PostgreSQL. Each
example is either saved with a value that passes the field's rule again, or re-rendered
with a Spanish error under that field and no row added; never a 500.

The validators alone are fuzzed in tests/test_bad_input.py; this goes through the forms.
"""
from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings

from facho.extensions import db
from tests.conftest import create_user, csrf_token_from, login
from tests.reliability._ui_fuzz import (REVALIDATE, adjust_for, base_data, errors_under,
                                        is_spanish, strategy_for, text_fields)
from tests.reliability._ui_pages import first_ids, model_views, seed_panel

FORMS = ("brands", "olts", "oids", "index_formulas", "snmp_jobs", "reglas", "canales")
# creatable, but not a model form: the token is shown once on the POST's own answer page
# (200, no redirect); its bad input is tested in tests/admin/test_admin_api_tokens.py
OWN_CREATE_PAGE = {"api_tokens"}
NO_CREATE_FORM = {"executions", "onus", "job_hosts", "audit_events", "incidentes",
                  "api_calls"}  # read-only or owned by the job form
FAST, LONG = 8, 150
examples = pytest.mark.parametrize("max_examples", [
    FAST, pytest.param(LONG, marks=pytest.mark.long)], ids=["fast", "long"])


@pytest.fixture
def panel(pg_app):
    seed_panel(pg_app)
    create_user(pg_app)
    client = pg_app.test_client()
    assert login(client).status_code == 302
    return pg_app, client


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def _newest(app, model):
    with app.app_context():
        return db.session.scalars(db.select(model).order_by(model.id.desc())).first()


def _delete(app, model, row_id) -> None:
    with app.app_context():
        db.session.delete(db.session.get(model, row_id))
        db.session.commit()


def _ids(app) -> dict:
    found = first_ids(app)
    return {"brand": found["brands"], "olt": found["olts"], "oid": found["oids"]}


def test_every_creatable_panel_view_is_fuzzed(pg_app):
    creatable = {e for e, v in model_views(pg_app).items() if v.can_create}
    assert creatable - set(FORMS) - OWN_CREATE_PAGE == set(), \
        "a new form: add its base data to _ui_fuzz"
    assert set(model_views(pg_app)) - creatable <= NO_CREATE_FORM


@examples
@pytest.mark.parametrize("form", FORMS)
def test_every_text_field_of_a_form_refuses_bad_text_in_spanish_or_saves_it_valid(
        panel, reliability, form, max_examples):
    app, client = panel
    model = model_views(app)[form].model
    url = f"/admin/{form}/new/"
    html = client.get(url).get_data(as_text=True)
    token, fields, ids = csrf_token_from(html), text_fields(html), _ids(app)
    serial = itertools.count()
    # The base itself must save, or every refusal below would prove nothing.
    saved = client.post(url, data={**base_data(form, ids, next(serial)), "csrf_token": token})
    assert saved.status_code == 302, errors_under(saved.get_data(as_text=True), "nombre")
    _delete(app, model, _newest(app, model).id)
    assert fields, form
    for field in fields:
        tally = {"examples_tried": 0, "rejected": 0, "accepted": 0, "server_errors": 0,
                 "misplaced_or_english": 0}
        problems: list = []

        @settings(max_examples=max_examples, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow])
        @given(strategy_for(field))
        def post_one(value):
            data = base_data(form, ids, next(serial))
            data[field] = value
            adjust_for(form, field, data)
            before = _count(app, model)
            response = client.post(url, data={**data, "csrf_token": token})
            tally["examples_tried"] += 1
            if response.status_code >= 500:
                tally["server_errors"] += 1
                problems.append((value, response.status_code))
                return
            if response.status_code == 302:
                tally["accepted"] += 1
                row = _newest(app, model)
                stored = getattr(row, field, None)
                check = REVALIDATE.get(field)
                try:
                    if check and stored is not None and stored != "":
                        check(stored if isinstance(stored, str) else str(stored))
                except ValueError as exc:
                    problems.append((value, f"stored {stored!r} fails its rule: {exc}"))
                _delete(app, model, row.id)
                return
            tally["rejected"] += 1
            messages = errors_under(response.get_data(as_text=True), field)
            if (response.status_code != 200 or _count(app, model) != before or not messages
                    or not all(is_spanish(m) for m in messages)):
                tally["misplaced_or_english"] += 1
                problems.append((value, response.status_code, messages))

        try:
            post_one()
        finally:
            reliability.record("bad_input", f"formulario {form}", field=field, **tally)
        assert problems == [], (form, field, problems[:3])
        assert tally["server_errors"] == 0



@pytest.mark.parametrize("form, field, value", [
    ("snmp_jobs", "cron_tz", "a" * 300),          # ZoneInfo raised OSError: a 500
    ("index_formulas", "modelo", "\x00"),         # PostgreSQL cannot compare NUL: a 500
    ("olts", "descripcion", "antes\x00después"),  # PostgreSQL refused it on commit
    ("index_formulas", "params", "{no es json"),  # Flask-Admin said "Invalid JSON"
])
def test_values_the_long_fuzz_found_are_refused_in_spanish_under_their_field(
        panel, form, field, value):
    app, client = panel
    url = f"/admin/{form}/new/"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    model = model_views(app)[form].model
    before = _count(app, model)
    data = {**base_data(form, _ids(app), 999), field: value}
    adjust_for(form, field, data)
    response = client.post(url, data={**data, "csrf_token": token})
    messages = errors_under(response.get_data(as_text=True), field)
    assert response.status_code == 200 and _count(app, model) == before
    assert messages and all(map(is_spanish, messages)), messages

@examples
def test_the_purge_form_refuses_bad_day_counts_in_spanish(panel, reliability, redis_client,
                                                          max_examples):
    app, client = panel
    url = "/admin/executions/eliminar-antiguas/"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    tally = {"examples_tried": 0, "rejected": 0, "accepted": 0, "server_errors": 0}
    problems: list = []

    @settings(max_examples=max_examples * 3, deadline=None, database=None)
    @given(strategy_for("dias"))
    def post_one(value):
        queued = redis_client.hlen("facho:maintenance.msgs")
        response = client.post(url, data={"dias": value, "csrf_token": token})
        tally["examples_tried"] += 1
        if response.status_code >= 500:
            tally["server_errors"] += 1
            problems.append((value, response.status_code))
        elif response.status_code == 302:
            tally["accepted"] += 1
            if not 1 <= int(value.strip()) <= 3650:
                problems.append((value, "accepted out of range"))
        else:
            tally["rejected"] += 1
            messages = errors_under(response.get_data(as_text=True), "dias")
            if not messages or not all(map(is_spanish, messages)) or \
                    redis_client.hlen("facho:maintenance.msgs") != queued:
                problems.append((value, response.status_code, messages))

    try:
        post_one()
    finally:
        reliability.record("bad_input", "formulario purga de ejecuciones", field="dias", **tally)
    assert problems == [], problems[:3]


# --- the CLI -----------------------------------------------------------------------------

SERVING_COMMANDS = {"demo", "simulate-olt"}     # valid values would serve UDP until Ctrl-C
BASE_ARGS = {"create-user": ["noc-fz"], "embedded-redis": ["status"], "run": ["leer-fz"],
             "locks": [], "recent": []}


def _text_params(command):
    import click
    for param in command.params:
        if isinstance(param.type, (click.types.StringParamType, click.types.IntParamType,
                                   click.Choice)) and not getattr(param, "is_flag", False):
            yield param


def _cli_line_is_clear(output: str) -> bool:
    from tests.reliability._ui_fuzz import ENGLISH
    lines = [line for line in output.splitlines() if line.strip()]
    english = ("Usage:", "Aborted", "Traceback", "Invalid value", "No such", "Missing")
    return bool(lines) and not any(w in output for w in english) and \
        not any(w in lines[-1] for w in ENGLISH[:4])


@examples
def test_every_text_argument_of_the_cli_refuses_bad_text_with_one_spanish_line(
        sqlite_app, reliability, monkeypatch, max_examples):
    from hypothesis import strategies as st
    from tests import factories as f
    from tests.reliability._ui_fuzz import odd_text
    monkeypatch.setenv("FACHO_PASSWORD", "una-clave-larga")
    with sqlite_app.app_context():
        f.job("leer-fz", olts=[f.olt("OLT-FZ")], job_type="get")
        db.session.commit()
    runner = sqlite_app.test_cli_runner()
    commands = sqlite_app.cli.commands["facho"].commands
    checked = 0
    for name, command in sorted(commands.items()):
        if name in SERVING_COMMANDS:
            continue
        for param in _text_params(command):
            checked += 1
            tally = {"examples_tried": 0, "rejected": 0, "accepted": 0, "server_errors": 0}
            problems: list = []
            flag = param.opts[0] if param.param_type_name == "option" else None

            @settings(max_examples=max_examples, deadline=None, database=None)
            @given(st.one_of(odd_text, st.integers(-10**6, 10**6).map(str)))
            def invoke_one(value):
                args = list(BASE_ARGS.get(name, []))
                if flag:
                    args += [flag, value]
                else:
                    args = [value] + args[1:]
                result = runner.invoke(args=["facho", name, *args], input="")
                tally["examples_tried"] += 1
                if result.exception is not None and not isinstance(result.exception,
                                                                   SystemExit):
                    tally["server_errors"] += 1
                    problems.append((value, repr(result.exception)))
                elif result.exit_code == 0:
                    tally["accepted"] += 1
                else:
                    tally["rejected"] += 1
                    if not _cli_line_is_clear(result.output):
                        problems.append((value, result.exit_code, result.output[-200:]))

            try:
                invoke_one()
            finally:
                reliability.record("bad_input", f"CLI facho {name}", field=param.name, **tally)
            assert problems == [], (name, param.name, problems[:3])
    assert checked >= 8
