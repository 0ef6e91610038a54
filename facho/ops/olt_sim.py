"""A simulated OLT: a generated ``.snmprec`` served by snmpsim on 127.0.0.1.

``write_snmprec`` writes a Huawei MA5800-like or ZTE C320-like agent with N ONUs spread
over slots and ports with the vendors' real row-index schemes (``facho.inventory.decoders``)
and the columns of the shipped vendor profiles, deterministically from a seed, and returns the
ground truth (``SimOnu`` list) so tests can compare what a walk decodes.

``SnmpSim`` runs snmpsim (installed in its own venv by ``scripts/install-snmpsim.sh``) as a
subprocess serving a data directory: every ``<name>.snmprec`` in it answers to community
``<name>``. ``simulate_olt`` is the click command behind ``flask facho simulate-olt``.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import click

from facho.config import REPO_ROOT
from facho.ops.ctrl_c import honour_ctrl_c
from facho.inventory.decoders import HUAWEI_GPON, ZTE_C320, encode_index
from facho.snmp import SnmpClient, SnmpError, SnmpTarget, run

SYS = "1.3.6.1.2.1.1"
HW = "1.3.6.1.4.1.2011.6.128.1.1.2"
ZTE = "1.3.6.1.4.1.3902.1012.3"

VENDORS = {
    # vendor: formula, first slot, ports per slot, first port, first ONU id, serial prefix,
    # sysDescr, sysObjectID (Huawei's is the one in tests/data/snmprec/smartax.snmprec)
    "huawei": (HUAWEI_GPON, 1, 16, 0, 0, b"HWTC", "Huawei Integrated Access Software",
               "1.3.6.1.4.1.2011.2.123"),
    "zte": (ZTE_C320, 1, 16, 1, 1, b"ZTEG",
            "C320 Version V2.1.0 Software, Copyright (c) by ZTE Corporation Compiled",
            "1.3.6.1.4.1.3902.1082.1001.320.2.1"),
}


@dataclass(frozen=True)
class SimOnu:
    slot: int
    port: int
    onu_id: int
    index: tuple[int, ...]
    serial: bytes          # 8 octets: 4 vendor letters + 4 binary bytes
    description: str
    online: bool
    distance_m: int | None
    rx_dbm: float | None
    tx_dbm: float | None


def plan_onus(vendor: str, onus: int, seed: int = 0, per_port: int = 32) -> list[SimOnu]:
    """``onus`` ONUs, ``per_port`` on each PON port (ids drawn with gaps, as deleted ONUs
    leave), ports filled in order across slots. About 1 in 10 is offline."""
    formula, first_slot, ports, first_port, first_id, prefix, _, _ = VENDORS[vendor]
    rng = random.Random(seed)
    out: list[SimOnu] = []
    position = 0
    while len(out) < onus:
        slot, port = first_slot + position // ports, first_port + position % ports
        position += 1
        count = min(per_port, onus - len(out))
        for onu_id in sorted(rng.sample(range(first_id, first_id + 128), count)):
            online = rng.random() >= 0.1
            out.append(SimOnu(
                slot=slot, port=port, onu_id=onu_id,
                index=encode_index(slot, port, onu_id, formula),
                serial=prefix + rng.getrandbits(32).to_bytes(4, "big"),
                description=f"cliente-{len(out) + 1:05d}",
                online=online,
                distance_m=rng.randint(300, 20000) if online else None,
                rx_dbm=round(rng.uniform(-28, -15), 2) if online else None,
                tx_dbm=round(rng.uniform(1.5, 3.5), 2) if online else None,
            ))
    return out


def _huawei_rows(onu: SimOnu) -> list[tuple[str, str, str]]:
    i = ".".join(map(str, onu.index))
    centi = (lambda v: "2147483647" if v is None else str(round(v * 100)))
    return [
        (f"{HW}.43.1.3.{i}", "4x", onu.serial.hex()),
        (f"{HW}.43.1.9.{i}", "4", onu.description),
        (f"{HW}.46.1.15.{i}", "2", "1" if onu.online else "2"),
        (f"{HW}.46.1.20.{i}", "2", str(onu.distance_m if onu.online else -1)),
        # last down cause: offline ONUs alternate LOS (1) and dying gasp (13), online ones
        # last went down for a reset (9); derived, not drawn, so seeds keep their data
        (f"{HW}.46.1.24.{i}", "2", "9" if onu.online else ("1" if onu.onu_id % 2 else "13")),
        (f"{HW}.51.1.3.{i}", "2", centi(onu.tx_dbm)),
        (f"{HW}.51.1.4.{i}", "2", centi(onu.rx_dbm)),
    ]


def _zte_rows(onu: SimOnu) -> list[tuple[str, str, str]]:
    i = ".".join(map(str, onu.index))
    rx = "65535" if onu.rx_dbm is None else str(round((onu.rx_dbm + 30) / 0.002))
    rows = [
        (f"{ZTE}.28.1.1.2.{i}", "4", onu.description),
        (f"{ZTE}.28.1.1.5.{i}", "4x", onu.serial.hex()),
        (f"{ZTE}.50.12.1.1.10.{i}.1", "2", rx),
    ]
    if onu.online:  # the ranging table only lists ONUs that ranged
        rows.append((f"{ZTE}.11.4.1.2.{i}", "2", str(onu.distance_m)))
    return rows


def snmprec_text(vendor: str, onus: list[SimOnu], sys_name: str = "olt-sim") -> str:
    """The whole recording, sorted by OID as snmpsim requires."""
    _, _, _, _, _, _, descr, object_id = VENDORS[vendor]
    rows = [(f"{SYS}.1.0", "4", descr), (f"{SYS}.2.0", "6", object_id),
            (f"{SYS}.3.0", "67", "123456700"), (f"{SYS}.5.0", "4", sys_name)]
    per_onu = _huawei_rows if vendor == "huawei" else _zte_rows
    for onu in onus:
        rows.extend(per_onu(onu))
    rows.sort(key=lambda r: tuple(int(p) for p in r[0].split(".")))
    return "".join(f"{oid}|{tag}|{value}\n" for oid, tag, value in rows)


def write_snmprec(path: str | Path, vendor: str = "huawei", onus: int = 2048, seed: int = 0,
                  per_port: int = 32) -> list[SimOnu]:
    """Write a simulated OLT to ``path``; return its ONUs (the ground truth)."""
    if vendor not in VENDORS:
        raise ValueError(f"marca simulada desconocida {vendor!r}: use {', '.join(VENDORS)}")
    plan = plan_onus(vendor, onus, seed, per_port)
    Path(path).write_text(snmprec_text(vendor, plan, Path(path).stem))
    return plan


def snmpsim_binary() -> str:
    """snmpsim's responder: ``$FACHO_SNMPSIM`` or ``.venv-snmpsim`` in the repo."""
    candidate = os.environ.get("FACHO_SNMPSIM") or str(
        REPO_ROOT / ".venv-snmpsim" / "bin" / "snmpsim-command-responder")
    if not os.access(candidate, os.X_OK):
        raise FileNotFoundError(f"snmpsim no está instalado en {candidate}: ejecute "
                                "scripts/install-snmpsim.sh (o defina FACHO_SNMPSIM)")
    return candidate


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM snmpsim when its parent dies, so a
    killed test run or CLI leaves no agent behind (PR_SET_PDEATHSIG; no-op elsewhere)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class SnmpSim:
    """snmpsim serving ``data_dir`` on ``127.0.0.1:port`` (``with SnmpSim(...) as sim:``)."""

    # facho's SNMPv3 protocol names (facho.models.V3_*_PROTOCOLS) -> snmpsim's
    V3_AUTH = {"": "NONE", "md5": "MD5", "sha1": "SHA"}
    V3_PRIV = {"": "NONE", "des": "DES", "aes": "AES"}

    def __init__(self, data_dir: str | Path, port: int, *, log_path: str | Path | None = None,
                 extra_args: list[str] | tuple[str, ...] = (),
                 v3_users: "list[tuple[str, str, str, str, str]] | tuple" = ()):
        """``extra_args``: more snmpsim options, e.g. ``--v3-user=…`` (SNMPv3 clients then
        name the data file as their context).

        ``v3_users``: SNMPv3 USM users, each ``(user, auth_proto, auth_key, priv_proto,
        priv_key)`` with facho's protocol names ("" / md5 / sha1, "" / des / aes; keys of
        at least 8 characters). A v3 request with an empty context (what an OLT row sends)
        reads ``self.snmprec``, which also answers the empty v1/v2c community. The keys
        reach snmpsim's command line only: keep the agent on a test machine."""
        self.data_dir = Path(data_dir)
        self.port = port
        self.log_path = log_path
        self.extra_args = list(extra_args) + self.v3_args(v3_users)
        self.process: subprocess.Popen | None = None
        self._cache_dir: str | None = None

    @classmethod
    def v3_args(cls, users) -> list[str]:
        """snmpsim options declaring ``users`` (see ``__init__``)."""
        args: list[str] = []
        for user, auth, auth_key, priv, priv_key in users:
            args.append(f"--v3-user={user}")
            if auth:
                args += [f"--v3-auth-key={auth_key}", f"--v3-auth-proto={cls.V3_AUTH[auth]}"]
            if priv:
                args += [f"--v3-priv-key={priv_key}", f"--v3-priv-proto={cls.V3_PRIV[priv]}"]
        return args

    def start(self, wait_s: float = 30.0, probe_community: str | None = None) -> "SnmpSim":
        self._cache_dir = tempfile.mkdtemp(prefix="facho-snmpsim-cache-")
        env = dict(os.environ)
        # As root snmpsim drops to `nobody`, who cannot read a Python under /root: keep root.
        env["SNMPSIM_ALLOW_ROOT"] = "true"
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                [snmpsim_binary(), f"--data-dir={self.data_dir}", f"--cache-dir={self._cache_dir}",
                 f"--agent-udpv4-endpoint=127.0.0.1:{self.port}", "--logging-method=null",
                 *self.extra_args],
                stdout=log, stderr=log, env=env, start_new_session=True,
                preexec_fn=_die_with_parent)
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        community = probe_community if probe_community is not None else next(
            (p.stem for p in sorted(self.data_dir.glob("*.snmprec"))), "public")
        if probe_community is None and community == "self":
            community = ""  # snmpsim serves self.snmprec to the empty community
        try:
            self.wait_ready(community, wait_s)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, community: str, wait_s: float) -> None:
        """Poll sysObjectID until snmpsim answers (it indexes the data files first)."""
        client = SnmpClient(SnmpTarget("127.0.0.1", self.port, community=community,
                                       timeout_s=0.2, retries=0))
        deadline = time.monotonic() + wait_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"snmpsim terminó al iniciar (código {self.process.returncode})")
            try:
                run(client.walk(SYS, max_rows=10))
                return
            except SnmpError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"snmpsim no respondió en {wait_s:g} s") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        if self._cache_dir:
            shutil.rmtree(self._cache_dir, ignore_errors=True)
            self._cache_dir = None

    def __enter__(self) -> "SnmpSim":
        return self if self.process else self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


@click.command("simulate-olt")
@click.option("--vendor", type=click.Choice(sorted(VENDORS)), default="huawei", show_default=True)
@click.option("--onus", type=click.IntRange(1, 100_000), default=2048, show_default=True)
@click.option("--port", type=click.IntRange(1024, 65535), default=16161, show_default=True)
@click.option("--community", default="public", show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Carpeta para el .snmprec (por defecto, una temporal).")
@click.option("--seed", type=int, default=0, show_default=True)
def simulate_olt(vendor: str, onus: int, port: int, community: str, data_dir: str | None,
                 seed: int) -> None:
    """Sirve una OLT simulada por SNMP en 127.0.0.1 hasta Ctrl-C."""
    honour_ctrl_c()
    folder = Path(data_dir or tempfile.mkdtemp(prefix="facho-olt-sim-"))
    folder.mkdir(parents=True, exist_ok=True)
    write_snmprec(folder / f"{community}.snmprec", vendor, onus, seed)
    sim = SnmpSim(folder, port)
    # Ctrl-C is the normal way out, even while the agent is still starting: the agent may
    # already answer before start() has returned, so the handler covers start-up too.
    try:
        try:
            sim.start(probe_community=community)
        except (FileNotFoundError, RuntimeError) as exc:
            raise click.ClickException(str(exc))
        click.echo(f"OLT {vendor} simulada con {onus} ONUs en 127.0.0.1:{port} "
                   f"(comunidad {community!r}, datos en {folder}). Ctrl-C para detener.")
        click.echo(f"  snmpbulkwalk -v2c -c {community} -On 127.0.0.1:{port} "
                   f"{HW if vendor == 'huawei' else ZTE}")
        sim.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
