"""Discovery executions of OLTs configured for SNMPv3 (user, protocols and keys on the OLT
row, no community) against a real snmpsim agent on 127.0.0.1 with one user per security
level. The keys never reach an execution's message, its summary or a log line."""
from __future__ import annotations

import logging

import pytest

from facho.executions.targets import snmp_target
from facho.extensions import db
from facho.models import FAILED, SUCCESS, Olt, SnmpJobHost
from facho.inventory.values import gpon_serial
from tests.execution_helpers import in_process_worker, onus, run_now, send_execution, wait_final
from tests.factories import make_job, make_olt, new_execution, seed_catalog
from tests.snmp_agents import V3_USERS, require_v3_privacy

HUAWEI_DISCOVERY = ["Huawei ONT descubrimiento", "Huawei ONT estado", "Huawei ONT descripción"]


def _secrets(level: str) -> list[str]:
    _, _, auth_key, _, priv_key = V3_USERS[level]
    return [key for key in (auth_key, priv_key) if key]


def _v3_olt(app, agent, level: str, **changes) -> tuple[int, int]:
    """A Huawei OLT on the v3 agent with the credentials of `level` (community empty)."""
    with app.app_context():
        seed_catalog()
        fields = dict(agent.credentials(level), **changes)
        olt_id = make_olt("OLT-V3", agent.port, "", **fields)
        job_id = make_job("Descubrir por SNMPv3", HUAWEI_DISCOVERY, olt_ids=(olt_id,))
    return olt_id, job_id


def _inventory(app, olt_id) -> dict[str, tuple]:
    return {raw: (o.slot, o.port, o.onu_id, o.name, o.serial, o.status, o.descripcion)
            for raw, o in onus(app, olt_id).items()}


def _logged(caplog) -> str:
    return "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)


@pytest.mark.parametrize("level", list(V3_USERS))
def test_discovery_fills_the_inventory_at_every_security_level(sqlite_app, v3_agent, level,
                                                               caplog):
    require_v3_privacy(level)
    caplog.set_level(logging.DEBUG)
    olt_id, job_id = _v3_olt(sqlite_app, v3_agent, level)
    with sqlite_app.app_context():
        execution_id = new_execution(job_id, olt_id)
    row = run_now(sqlite_app, execution_id)

    assert row.status == SUCCESS, row.error_message
    assert (row.result_summary["found"], row.result_summary["new"]) == (96, 96)
    stored = onus(sqlite_app, olt_id)
    assert len(stored) == 96
    for sim in v3_agent.onus:
        onu = stored[".".join(map(str, sim.index))]
        assert (onu.serial, onu.descripcion) == (gpon_serial(sim.serial), sim.description)
        assert onu.status
    # the same agent read over v2c (the empty community) gives the same inventory
    with sqlite_app.app_context():
        v2c_olt = make_olt("OLT-V2C", v3_agent.port, "")
        db.session.add(SnmpJobHost(job_id=job_id, olt_id=v2c_olt))
        db.session.commit()
        v2c_execution = new_execution(job_id, v2c_olt)
    assert run_now(sqlite_app, v2c_execution).status == SUCCESS
    assert _inventory(sqlite_app, olt_id) == _inventory(sqlite_app, v2c_olt)
    seen = f"{row.result_summary} {row.error_message} {_logged(caplog)}"
    assert "event=execution_end" in seen and "olt=OLT-V3" in seen
    for key in _secrets(level):
        assert key not in seen


@pytest.mark.parametrize("level,change", [
    ("authNoPriv-md5", {"v3_auth_clave": "clave-auth-equivocada"}),
    ("authPriv-sha1-aes", {"v3_auth_clave": "clave-auth-equivocada"}),
])
def test_a_wrong_auth_key_fails_once_with_a_spanish_message_and_no_key(
        sqlite_app, v3_agent, level, change, caplog):
    require_v3_privacy(level)
    caplog.set_level(logging.DEBUG)
    olt_id, job_id = _v3_olt(sqlite_app, v3_agent, level, **change)
    with sqlite_app.app_context():
        execution_id = new_execution(job_id, olt_id)
    row = run_now(sqlite_app, execution_id)

    assert row.status == FAILED and row.attempt == 1   # not retried: retrying cannot help
    assert row.error_message.startswith(
        f"La OLT 127.0.0.1:{v3_agent.port} rechazó las credenciales SNMPv3 (la clave o el "
        "protocolo de autenticación no coinciden"), row.error_message
    assert "revise usuario, protocolos y claves" in row.error_message
    assert onus(sqlite_app, olt_id) == {}
    seen = f"{row.error_message} {row.result_summary} {_logged(caplog)}"
    for key in _secrets(level) + ["clave-auth-equivocada"]:
        assert key not in seen


def test_authpriv_discovery_through_the_worker_logs_no_key(sqlite_app, v3_agent, caplog):
    """The whole path: the scheduler's message, a real Dramatiq worker, the actor."""
    level = "authPriv-sha1-aes"
    require_v3_privacy(level)
    caplog.set_level(logging.DEBUG)
    olt_id, job_id = _v3_olt(sqlite_app, v3_agent, level)
    with sqlite_app.app_context():
        execution_id = new_execution(job_id, olt_id)
    with in_process_worker(sqlite_app):
        send_execution(sqlite_app, execution_id)
        row = wait_final(sqlite_app, [execution_id])[execution_id]
    assert row.status == SUCCESS, row.error_message
    assert row.result_summary["found"] == 96
    logged = _logged(caplog)
    assert f"execution={execution_id} " in logged
    for key in _secrets(level):
        assert key not in logged and key not in str(row.result_summary)


def test_the_target_of_a_v3_olt_carries_its_credentials_and_shows_no_key(sqlite_app, v3_agent):
    level = "authPriv-md5-des"
    olt_id, _ = _v3_olt(sqlite_app, v3_agent, level)
    with sqlite_app.app_context():
        olt = db.session.get(Olt, olt_id)
        target = snmp_target(olt, sqlite_app.config["FACHO"])
    user, auth, auth_key, priv, priv_key = V3_USERS[level]
    assert (target.version, target.community, target.v3_user, target.v3_auth_proto,
            target.v3_auth_key, target.v3_priv_proto, target.v3_priv_key) == (
        "v3", "", user, auth, auth_key, priv, priv_key)
    assert auth_key not in repr(target) and priv_key not in repr(target)
