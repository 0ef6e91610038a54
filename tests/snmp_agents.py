"""Real SNMP agents for tests: snmpsim serving .snmprec folders, and tiny faulty agents.

Import the fixtures into a test module to use them:

    from tests.snmp_agents import olt_agents, snmpsim_factory  # noqa: F401

* ``snmpsim_factory`` (session): ``start(data_dir) -> SnmpSim`` on a free 127.0.0.1 port,
  every agent stopped at the end of the session.
* ``olt_agents`` (session): one snmpsim serving a simulated Huawei OLT with 2,048 ONUs
  (community ``huawei_sim``), a simulated ZTE C320 with 256 ONUs (``zte_sim``) and the real
  recordings of ``tests/data/snmprec`` (``zxa10_c320``, ``smartax``), with the ground truth;
  it also accepts SNMPv3 user ``V3_USER`` (SHA auth, no privacy; context = file name).
* ``v3_agent`` (session): one snmpsim with a SNMPv3 user per security level (``V3_USERS``:
  noAuthNoPriv, authNoPriv MD5/SHA-1, authPriv MD5+DES/SHA-1+AES) serving a simulated
  Huawei OLT to the empty context, as an OLT row asks.
* ``FakeAgent``: a UDP agent on 127.0.0.1 whose answers come from a Python function, for
  behaviour no real agent shows on demand (loops, endless tables, stale replies…).
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

import pytest

from facho.config import REPO_ROOT
from facho.ops.olt_sim import SimOnu, SnmpSim, snmpsim_binary, write_snmprec
from facho.snmp import SnmpTarget
from facho.snmp import codec


def require(condition: bool, what: str):
    # conftest imports this module at its end (session fixtures defined once), so the
    # bench scripts that import this module alone must not import conftest at load time
    from tests.conftest import require as conftest_require
    conftest_require(condition, what)

# Real OLT recordings kept in the repository (origin and licence: tests/data/snmprec/README.md).
RECORDINGS = REPO_ROOT / "tests" / "data" / "snmprec"


def udp_free_port() -> int:
    """A 127.0.0.1 UDP port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def snmpsim_installed() -> bool:
    try:
        snmpsim_binary()
        return True
    except FileNotFoundError:
        return False


@pytest.fixture(scope="session")
def snmpsim_factory():
    require(snmpsim_installed(), "snmpsim (run scripts/install-snmpsim.sh)")
    started: list[SnmpSim] = []

    def start(data_dir: str | Path, probe_community: str | None = None,
              extra_args: tuple[str, ...] = ()) -> SnmpSim:
        sim = SnmpSim(data_dir, udp_free_port(), extra_args=extra_args)
        sim.start(probe_community=probe_community)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


V3_USER, V3_AUTH_KEY = "facho", "authkey-123"


@dataclass
class OltAgents:
    port: int
    huawei: list[SimOnu]      # community huawei_sim
    zte: list[SimOnu]         # community zte_sim
    recordings: Path          # folder holding zxa10_c320.snmprec and smartax.snmprec

    def target(self, community: str, **options) -> SnmpTarget:
        options.setdefault("timeout_s", 2.0)
        options.setdefault("retries", 1)
        return SnmpTarget("127.0.0.1", self.port, community=community, **options)


@pytest.fixture(scope="session")
def olt_agents(snmpsim_factory, tmp_path_factory) -> OltAgents:
    data = tmp_path_factory.mktemp("snmp-data")
    huawei = write_snmprec(data / "huawei_sim.snmprec", "huawei", 2048, seed=1)
    zte = write_snmprec(data / "zte_sim.snmprec", "zte", 256, seed=2)
    for name in ("zxa10_c320.snmprec", "smartax.snmprec"):
        shutil.copy(RECORDINGS / name, data / name)
    sim = snmpsim_factory(data, probe_community="huawei_sim", extra_args=(
        f"--v3-user={V3_USER}", f"--v3-auth-key={V3_AUTH_KEY}", "--v3-auth-proto=SHA"))
    return OltAgents(sim.port, huawei, zte, RECORDINGS)


# --- an SNMPv3 agent with one user per security level ------------------------------------

# (user, auth_proto, auth_key, priv_proto, priv_key), facho's protocol names
V3_USERS = {
    "noAuthNoPriv": ("facho-noauth", "", "", "", ""),
    "authNoPriv-md5": ("facho-md5", "md5", "md5-clave-auth-1", "", ""),
    "authNoPriv-sha1": ("facho-sha", "sha1", "sha-clave-auth-2", "", ""),
    "authPriv-md5-des": ("facho-md5-des", "md5", "md5-clave-auth-3", "des", "des-clave-priv-3"),
    "authPriv-sha1-aes": ("facho-sha-aes", "sha1", "sha-clave-auth-4", "aes",
                          "aes-clave-priv-4"),
}


def snmpsim_has_privacy() -> bool:
    """snmpsim (pysnmp) ciphers DES/AES only with `cryptography` in its own venv; without
    it the agent answers every authPriv request with a decryption Report."""
    python = Path(snmpsim_binary()).with_name("python")
    probe = "import cryptography.hazmat.decrepit.ciphers, cryptography.hazmat.primitives"
    return subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0


def require_v3_privacy(level: str) -> None:
    if V3_USERS[level][3]:
        require(snmpsim_has_privacy(), "cryptography en .venv-snmpsim (privacidad SNMPv3 de "
                "snmpsim: pines de scripts/install-snmpsim.sh)")


@dataclass
class V3Agent:
    port: int
    onus: list[SimOnu]        # a simulated Huawei OLT in self.snmprec (empty context)

    def credentials(self, level: str) -> dict[str, str]:
        """The OLT row's SNMPv3 columns for the user of `level` (a V3_USERS key)."""
        user, auth, auth_key, priv, priv_key = V3_USERS[level]
        return dict(snmp_version="v3", v3_usuario=user, v3_auth_proto=auth,
                    v3_auth_clave=auth_key, v3_priv_proto=priv, v3_priv_clave=priv_key)

    def target(self, level: str, **options) -> SnmpTarget:
        user, auth, auth_key, priv, priv_key = V3_USERS[level]
        options.setdefault("timeout_s", 2.0)
        options.setdefault("retries", 1)
        return SnmpTarget("127.0.0.1", self.port, version="v3", community="", v3_user=user,
                          v3_auth_proto=auth, v3_auth_key=auth_key, v3_priv_proto=priv,
                          v3_priv_key=priv_key, **options)


@pytest.fixture(scope="session")
def v3_agent(tmp_path_factory) -> V3Agent:
    """snmpsim on 127.0.0.1 with the SNMPv3 users of V3_USERS, serving a simulated Huawei
    OLT (96 ONUs) to the empty context (and the empty v2c community, to compare)."""
    require(snmpsim_installed(), "snmpsim (run scripts/install-snmpsim.sh)")
    data = tmp_path_factory.mktemp("snmp-v3")
    onus = write_snmprec(data / "self.snmprec", "huawei", 96, seed=3)
    sim = SnmpSim(data, udp_free_port(), v3_users=list(V3_USERS.values()))
    sim.start()
    yield V3Agent(sim.port, onus)
    sim.stop()


# --- fake agents -------------------------------------------------------------------------

Policy = Callable[[int, list[tuple[int, ...]], int], "list[tuple[tuple[int, ...], int]] | int | None"]


class Raw(NamedTuple):
    """A value sent with any BER tag, e.g. ``Raw(0x82, b"")`` (endOfMibView) or
    ``Raw(0x41, b"\x05")`` (Counter32 5)."""

    tag: int
    content: bytes


END_OF_MIB_VIEW_VALUE, NO_SUCH_OBJECT_VALUE = Raw(0x82, b""), Raw(0x80, b"")


def encode_value(value: "int | bytes | Raw") -> bytes:
    """int -> INTEGER, bytes -> OCTET STRING, Raw -> its tag and content as given."""
    if isinstance(value, Raw):
        return codec._tlv(value.tag, value.content)
    if isinstance(value, (bytes, bytearray)):
        return codec._tlv(0x04, bytes(value))
    return codec._integer(value)


def encode_response(version: int, community: bytes, request_id: int,
                    varbinds: list[tuple[tuple[int, ...], "int | bytes | Raw"]],
                    error_status: int = 0, error_index: int = 0,
                    pdu_type: int = codec.RESPONSE) -> bytes:
    """A Response PDU (or another ``pdu_type``) carrying ``varbinds`` (see encode_value)."""
    t, i = codec._tlv, codec._integer
    body = b"".join(t(0x30, t(0x06, codec.encode_oid(oid)) + encode_value(value))
                    for oid, value in varbinds)
    pdu = i(request_id) + i(error_status) + i(error_index) + t(0x30, body)
    return t(0x30, i(version) + t(0x04, community) + t(pdu_type, pdu))


class Request(NamedTuple):
    """What a FakeAgent received, as handed to its ``mangle`` function."""

    version: int
    community: bytes
    request_id: int
    kind: int
    oids: list[tuple[int, ...]]
    max_repetitions: int


class FakeAgent:
    """A UDP agent on 127.0.0.1 answering with ``policy(pdu_type, oids, max_repetitions)``.

    The policy returns varbinds ``[(oid, value)]`` (value: int, bytes or ``Raw``), an int
    error-status (answered with error-index 1), or None to stay silent. ``delay_s`` waits
    before each answer. ``requests`` records ``(request_id, pdu_type, oids)`` of every
    request received. ``mangle(reply, request, answer)``, when given, returns the datagram(s)
    actually sent instead of the well-formed ``reply`` (bytes, a list of them, or None to
    stay silent): truncated packets, garbage, another request id or PDU type…
    """

    def __init__(self, policy: Policy, community: bytes = b"public", delay_s: float = 0.0,
                 stale_first: bool = False,
                 mangle: "Callable[[bytes, Request, object], bytes | list[bytes] | None]"
                 " | None" = None) -> None:
        self.policy = policy
        self.mangle = mangle
        self.community = community
        self.delay_s = delay_s
        self.stale_first = stale_first  # send a reply with another request id first
        self.requests: list[tuple[int, int, list[tuple[int, ...]]]] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "FakeAgent":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            version, community, kind, req = codec.decode_message(data)
            oids = [codec.decode_oid(o) for o, _ in req.varbinds]
            self.requests.append((req.request_id, kind, oids))
            answer = self.policy(kind, oids, req.error_index)
            if answer is None:
                continue
            if self.delay_s:
                time.sleep(self.delay_s)
            if self.stale_first:
                self.sock.sendto(encode_response(version, community, req.request_id ^ 0x5A5A,
                                                 [(oids[0] + (999,), 666)]), addr)
            if isinstance(answer, int):
                reply = encode_response(version, community, req.request_id, [(o, 0) for o in oids],
                                        error_status=answer, error_index=1)
            else:
                reply = encode_response(version, community, req.request_id, answer)
            if self.mangle is not None:
                request = Request(version, community, req.request_id, kind, oids, req.error_index)
                reply = self.mangle(reply, request, answer)
            for datagram in ([] if reply is None else [reply] if isinstance(reply, bytes)
                             else reply):
                self.sock.sendto(datagram, addr)


def table_policy(root: tuple[int, ...], rows: int) -> Policy:
    """A well-behaved single-column table ``root.1 .. root.<rows>`` (value = row number)."""

    def policy(kind, oids, max_repetitions):
        out = []
        for oid in oids:
            last = oid[len(root)] if oid[:len(root)] == root and len(oid) > len(root) else 0
            for n in range(last + 1, last + 1 + max(1, max_repetitions)):
                out.append((root + (n,), n) if n <= rows else ((root[:-1] + (root[-1] + 1, 1)), 0))
        return out

    return policy


def repeating_policy(root: tuple[int, ...]) -> Policy:
    """A broken agent: the first row, then the same OID it was asked for (never moves on)."""

    def policy(kind, oids, max_repetitions):
        return [(oid if len(oid) > len(root) else root + (1,), 7) for oid in oids]

    return policy


def endless_policy(root: tuple[int, ...]) -> Policy:
    """An agent whose table never ends: always the next rows, forever."""

    def policy(kind, oids, max_repetitions):
        out = []
        for oid in oids:
            last = oid[len(root)] if len(oid) > len(root) else 0
            out.extend((root + (last + n,), n) for n in range(1, max(1, max_repetitions) + 1))
        return out

    return policy


# --- the fast simulated agent (facho.ops.fast_agent) -------------------------------------

def fast_agent(recordings: "dict[str, Path] | Path", **options):
    """A ``FastAgent`` serving ``{community: snmprec path}`` (or one path, community = its
    name), started on a thread; use it as a context manager."""
    from facho.ops.fast_agent import FastAgent, Table

    if isinstance(recordings, Path):
        recordings = {recordings.name.removesuffix(".snmprec"): recordings}
    return FastAgent({c: Table.from_snmprec(p) for c, p in recordings.items()}, **options)


def fast_target(agent, community: str, **options) -> SnmpTarget:
    options.setdefault("timeout_s", 2.0)
    options.setdefault("retries", 1)
    return SnmpTarget("127.0.0.1", agent.port, community=community, **options)
