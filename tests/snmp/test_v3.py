"""SNMPv3 against a real agent (snmpsim on 127.0.0.1) with one user per security level:
noAuthNoPriv, authNoPriv (MD5, SHA-1) and authPriv (MD5+DES, SHA-1+AES, the privacy from
the pinned puresnmp-crypto). Every level reads what v2c reads; refused credentials end
at once with a Spanish message that names the problem and never a key."""
from __future__ import annotations

import time
from dataclasses import replace

import pytest

from facho.ops.olt_sim import HW, SYS
from facho.snmp import (SnmpAuthError, SnmpClient, SnmpConfigError, SnmpTarget,
                        SnmpUnknownOid, run)
from tests.snmp_agents import V3_USERS, require_v3_privacy

LEVELS = list(V3_USERS)
SERIAL, RX_POWER = f"{HW}.43.1.3", f"{HW}.51.1.4"   # RX power: the agent's last column


def v2c(agent) -> SnmpClient:
    return SnmpClient(SnmpTarget("127.0.0.1", agent.port, community="", timeout_s=2.0))


@pytest.mark.parametrize("level", LEVELS)
def test_every_security_level_walks_the_same_rows_as_v2c(v3_agent, level):
    require_v3_privacy(level)
    client = SnmpClient(v3_agent.target(level))
    rows = run(client.walk(SERIAL))
    assert len(rows) == 96
    assert {index: value for index, value in rows} == {
        onu.index: onu.serial for onu in v3_agent.onus}
    assert rows == run(v2c(v3_agent).walk(SERIAL))
    # several columns in the same GetBulk requests, and every value type of the system group
    assert run(client.walk(SYS)) == run(v2c(v3_agent).walk(SYS))
    assert run(client.get(f"{SYS}.5.0")) == b"self"


@pytest.mark.parametrize("level", ["authNoPriv-sha1", "authPriv-sha1-aes"])
def test_a_walk_to_the_end_of_the_mib_and_a_missing_object(v3_agent, level):
    """The last column ends in endOfMibView, a missing object is noSuchObject: puresnmp's
    valueless markers, which used to raise TypeError."""
    require_v3_privacy(level)
    client = SnmpClient(v3_agent.target(level, bulk_size=50))
    rows = run(client.walk(RX_POWER))
    assert rows == run(v2c(v3_agent).walk(RX_POWER, bulk_size=50))
    assert len(rows) == 96
    with pytest.raises(SnmpUnknownOid):
        run(client.get(f"{SYS}.99.0"))
    assert run(client.get_many([f"{SYS}.99.0", f"{SYS}.5.0"], strict=False)) == {
        f"{SYS}.99.0": None, f"{SYS}.5.0": b"self"}


def _refused(target: SnmpTarget, walk: bool) -> tuple[SnmpAuthError, float]:
    client = SnmpClient(target)
    started = time.monotonic()
    with pytest.raises(SnmpAuthError) as caught:
        run(client.walk(SERIAL) if walk else client.get(f"{SYS}.5.0"))
    return caught.value, time.monotonic() - started


WRONG = [
    # level, change, English report, Spanish explanation
    ("authNoPriv-md5", {"v3_auth_key": "otra-clave-auth"}, "Wrong message digest",
     "la clave o el protocolo de autenticación no coinciden"),
    ("authNoPriv-md5", {"v3_auth_proto": "sha1"}, "Wrong message digest",
     "la clave o el protocolo de autenticación no coinciden"),
    ("authPriv-sha1-aes", {"v3_auth_key": "otra-clave-auth"}, "Wrong message digest",
     "la clave o el protocolo de autenticación no coinciden"),
    ("authPriv-sha1-aes", {"v3_priv_key": "otra-clave-priv"}, "Unable to decrypt",
     "la clave o el protocolo de privacidad no coinciden"),
    ("authPriv-md5-des", {"v3_priv_key": "otra-clave-priv"}, "Unable to decrypt",
     "la clave o el protocolo de privacidad no coinciden"),
    ("authNoPriv-sha1", {"v3_user": "nadie"}, "Unknown user-name",
     "la OLT no tiene ese usuario"),
    ("authNoPriv-sha1", {"v3_auth_proto": "", "v3_auth_key": ""},
     "Unsupported security level", "el usuario no admite ese nivel de seguridad"),
]


@pytest.mark.parametrize("walk", [False, True], ids=["get", "walk"])
@pytest.mark.parametrize("level,change,report,spanish", WRONG)
def test_refused_credentials_fail_at_once_in_spanish_without_any_key(
        v3_agent, level, change, report, spanish, walk):
    """A walk is a GetBulk: puresnmp 2.0.1 did not mark it reportable, so the agent stayed
    silent and the operator waited for a timeout that blamed the network."""
    require_v3_privacy(level)
    target = replace(v3_agent.target(level, timeout_s=3.0, retries=1), **change)
    error, elapsed = _refused(target, walk)
    message = str(error)
    assert message.startswith("La OLT 127.0.0.1:")
    assert "rechazó las credenciales SNMPv3" in message
    assert spanish in message and report in message
    assert "revise usuario, protocolos y claves" in message
    assert error.transient is False          # the execution does not retry it
    assert elapsed < 2.0, elapsed            # a Report, not a timeout
    keys = (V3_USERS[level][2], V3_USERS[level][4], target.v3_auth_key, target.v3_priv_key)
    for key in filter(None, keys):
        assert key not in message and key not in repr(error)


def test_the_target_repr_shows_no_key_nor_community(v3_agent):
    target = replace(v3_agent.target("authPriv-sha1-aes"), community="com-secreta")
    text = repr(target)
    assert "facho-sha-aes" in text and "sha1" in text and "aes" in text
    for secret in ("sha-clave-auth-4", "aes-clave-priv-4", "com-secreta"):
        assert secret not in text


@pytest.mark.parametrize("change,expected", [
    ({"v3_user": ""}, "SNMPv3 requiere un usuario"),
    ({"v3_auth_proto": "sha256"}, "protocolo de autenticación SNMPv3 desconocido"),
    ({"v3_priv_proto": "3des"}, "protocolo de privacidad SNMPv3 desconocido"),
    ({"v3_auth_proto": "", "v3_auth_key": ""}, "la privacidad SNMPv3 requiere autenticación"),
])
def test_settings_that_can_never_work_are_refused_before_any_request(change, expected):
    target = replace(SnmpTarget("127.0.0.1", 9, version="v3", v3_user="u",
                                v3_auth_proto="sha1", v3_auth_key="clave-auth-x",
                                v3_priv_proto="aes", v3_priv_key="clave-priv-x"), **change)
    with pytest.raises(SnmpConfigError) as caught:
        run(SnmpClient(target).get(f"{SYS}.5.0"))
    assert expected in str(caught.value)
    assert "clave-auth-x" not in str(caught.value) and "clave-priv-x" not in str(caught.value)
