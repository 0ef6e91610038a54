"""A client that knows only the OpenAPI description (`/api/v1/openapi.json`) passes through
every route: Schemathesis builds each request from the description (query parameters and
body from their schemas), with a token of the route's scope and the path ids of rows made
by tests/factories.py; every answer must have a documented status and content type, and a
JSON body that validates against the documented schema. And the description lists every
route the blueprint registers, so no route escapes it."""
from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)

from tests.api.conftest import sqlite_app_with
from tests.factories import (add_brand, add_execution, add_incident, add_job, add_olt,
                             add_onus, add_token)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
EXAMPLES = 5           # requests per operation: each route seen with several parameter sets
# Plain Flask rules of the API that are not operations: the description and its page, the
# page's files, and the catch-all that answers unknown paths with a problem document.
NOT_OPERATIONS = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/assets/<path:filename>",
                  "/api/v1/<path:rest>"}


@pytest.fixture
def open_app(tmp_path, redis_url):
    """SQLite app without the per-token rate limit (dozens of calls from one token)."""
    from facho.extensions import db
    app = sqlite_app_with(tmp_path, FACHO_API_RATE_PER_MINUTE="0")
    yield app
    with app.app_context():
        db.engine.dispose()


def rows(app) -> dict:
    """One row of each kind a path names, plus a few ONUs to list: {path parameter: id}."""
    brand = add_brand(app)
    olt = add_olt(app, brand, "OLT-N")
    job = add_job(app, brand, [olt], nombre="descubrir")
    # the failed execution is of another job: run-now's PENDING row on `job` would make
    # its re-run a 409 (one active manual run per job and OLT)
    failed_job = add_job(app, brand, [olt], nombre="potencia", job_type="get")
    onu = add_onus(app, olt, 3, status="en línea", rx_power=-21.5, readings=1)[0]
    return {"onu_id": onu, "execution_id": add_execution(app, failed_job, olt, status="FAILED"),
            "incident_id": add_incident(app, olt), "job": job}


def token_for(app, method: str) -> str:
    from tests.conftest import create_user
    user = create_user(app, username=f"cliente-{method}", password="x")
    return add_token(app, user, ("ejecutar",) if method == "POST" else ("lectura",))[1]


def test_a_client_built_from_the_description_passes_every_route(open_app, redis_client):
    ids = rows(open_app)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", open_app)
    secrets = {m: token_for(open_app, m) for m in ("GET", "POST")}
    seen: dict[str, set[int]] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:
        known = {p.name: ids[p.name] for p in operation.path_parameters}
        statuses = seen.setdefault(f"{operation.method.upper()} {operation.path}", set())

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(path_parameters=known))
        def call(case):
            if isinstance(case.body, dict) and "tareas" in case.body:
                # the body names jobs by id: the generated ids become the factory's job
                case.body["tareas"] = [ids["job"] for _ in case.body["tareas"]]
            headers = {"Authorization": f"Bearer {secrets[case.method.upper()]}"}
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)
            statuses.add(response.status_code)

        call()
    unanswered = sorted(name for name, codes in seen.items()
                        if not any(200 <= code < 300 for code in codes))
    assert not unanswered, f"routes that never answered 2xx: {unanswered} ({seen})"


def test_the_description_lists_every_route_the_api_registers(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    documented = {(method.upper(), path) for path, operations in
                  spec["paths"].items() for method in operations if method in HTTP_METHODS}
    registered = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.rule in NOT_OPERATIONS:
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        registered |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert len(registered) >= 15
    assert registered == documented, (registered - documented, documented - registered)
