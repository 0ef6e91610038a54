"""Synthetic OLT recordings shaped like each vendor's real ONU tables, with their ground truth.

    python -m tests.recordings.generate            # rewrite tests/data/snmprec/synthetic
    python -m tests.recordings.generate --check    # exit 1 if the committed files differ

For every scheme in ``SCHEMES`` this writes ``<name>.snmprec`` (snmpsim's ``OID|TAG|VALUE``,
sorted by OID; served by snmpsim it answers to community ``<name>``) and
``<name>.expected.json``: what an inventory must hold after reading it, computed here by the
generator's own arithmetic from the values it drew, never by Facho's decoders or value rules
(so a test comparing the two checks Facho, not itself).

Everything is deterministic: each scheme draws from its own ``random.Random(<name>)`` and only
uses ``random()`` (the one method whose sequence Python promises to keep across versions).

The row indexes, columns and value encodings are the vendors' real ones as described in the
project's vendor reference (docs: tests/data/snmprec/synthetic/README.md); ``ubnt_string`` is an
invented vendor in the shape of the onboarding case of issue 11 (a table indexed by the
length-prefixed ASCII serial, the PON port in a column).
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

OUT_DIR = Path(__file__).resolve().parents[1] / "data" / "snmprec" / "synthetic"
COMMAND = "python -m tests.recordings.generate"
SYS = "1.3.6.1.2.1.1"

EN_LINEA, DESCONECTADA = "en línea", "desconectada"
LOS, DYING_GASP = "LOS", "dying gasp (sin energía)"

# Descriptions: mostly ASCII, one non-ASCII (UTF-8 on the wire), one empty (= no value).
SPECIAL_DESCRIPTIONS = {2: "Señora Peña", 7: ""}
CUSTOMERS = ("Bodega Rosita", "Av. Grau 123 - Dpto 4", "Colegio San Martin", "Juan Quispe",
             "Hostal El Sol", "Farmacia Central", "Maria Huaman", "Mz B Lt 4 Los Olivos")


class Draw:
    """Deterministic draws that only use ``Random.random()``."""

    def __init__(self, seed: str):
        self._rng = random.Random(seed)

    def random(self) -> float:
        return self._rng.random()

    def integer(self, low: int, high: int) -> int:
        """An integer in [low, high]."""
        return low + min(int(self.random() * (high - low + 1)), high - low)

    def chance(self, p: float) -> bool:
        return self.random() < p

    def choice(self, items):
        return items[self.integer(0, len(items) - 1)]

    def ids(self, low: int, high: int, count: int) -> list[int]:
        """``count`` distinct ids in [low, high], sorted: gaps like deleted ONUs leave."""
        pool = list(range(low, high + 1))
        for i in range(count):
            j = self.integer(i, len(pool) - 1)
            pool[i], pool[j] = pool[j], pool[i]
        return sorted(pool[:count])

    def octets(self, n: int) -> bytes:
        return bytes(self.integer(0, 255) for _ in range(n))


@dataclass
class Onu:
    """One ONU of a recording and what the inventory must hold for it."""

    slot: int
    port: int
    onu_id: int | None
    raw_index: str
    name: str
    online: bool
    serial: str | None = None
    mac: str | None = None
    description: str | None = None
    state: str | None = None
    rx_dbm: float | None = None
    distance_km: float | None = None

    def expected(self) -> dict:
        return {"raw_index": self.raw_index, "name": self.name, "slot": self.slot,
                "port": self.port, "onu_id": self.onu_id, "serial": self.serial,
                "mac": self.mac, "description": self.description, "state": self.state,
                "rx_dbm": self.rx_dbm, "distance_km": self.distance_km}


@dataclass
class Recording:
    name: str
    title: str
    sys_descr: str
    sys_object_id: str
    columns: dict[str, str]          # what each column of the recording holds -> OID
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    onus: list[Onu] = field(default_factory=list)

    def add(self, oid: str, tag: str, value) -> None:
        self.rows.append((oid, tag, str(value)))

    def add_text(self, oid: str, value: str | bytes) -> None:
        """An OCTET STRING: plain when printable ASCII (or empty), else hex (``4x``) of its
        bytes (UTF-8 for text)."""
        raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        if all(32 <= b < 127 for b in raw) and raw.strip() == raw and b"|" not in raw:
            self.rows.append((oid, "4", raw.decode("ascii")))
        else:
            self.rows.append((oid, "4x", raw.hex()))


def _oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(p) for p in oid.split("."))


def snmprec_text(rec: Recording) -> str:
    rows = [(f"{SYS}.1.0", "4", rec.sys_descr), (f"{SYS}.2.0", "6", rec.sys_object_id),
            (f"{SYS}.3.0", "67", "123456700"), (f"{SYS}.5.0", "4", rec.name)] + rec.rows
    keys = [_oid_key(oid) for oid, _, _ in rows]
    if len(set(keys)) != len(keys):
        raise AssertionError(f"{rec.name}: an OID appears twice")
    rows.sort(key=lambda r: _oid_key(r[0]))
    return "".join(f"{oid}|{tag}|{value}\n" for oid, tag, value in rows)


def expected_json(rec: Recording) -> str:
    onus = sorted(rec.onus, key=lambda o: _oid_key(o.raw_index))
    document = {
        "recording": rec.name,
        "community": rec.name,
        "title": rec.title,
        "synthetic": True,
        "generated_by": COMMAND,
        "columns": rec.columns,
        "counts": {"onus": len(onus),
                   "online": sum(o.online for o in onus),
                   "with_power": sum(o.rx_dbm is not None for o in onus),
                   "with_distance": sum(o.distance_km is not None for o in onus),
                   "ports": len({(o.slot, o.port) for o in onus})},
        "onus": [o.expected() for o in onus],
    }
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


# --- shared pieces ------------------------------------------------------------------------

def layout(draw: Draw, ports: list[tuple[int, int, int]], low: int, high: int
           ) -> list[tuple[int, int, int]]:
    """(slot, port, onu id) for ``count`` ONUs on each (slot, port, count), ids with gaps."""
    out = []
    for slot, port, count in ports:
        out.extend((slot, port, onu_id) for onu_id in draw.ids(low, high, count))
    return out


def description(position: int, draw: Draw, default: str | None = None) -> str:
    """The ONU's description as configured on the OLT ("" = none)."""
    if position in SPECIAL_DESCRIPTIONS:
        return SPECIAL_DESCRIPTIONS[position]
    if position % 4 == 3:
        return draw.choice(CUSTOMERS)
    return default if default is not None else f"cliente-{position + 1:04d}"


def shown_description(text: str) -> str | None:
    return text.strip() or None


def gpon_serial_text(vendor: bytes, tail: bytes) -> str:
    return vendor.decode("ascii").upper() + tail.hex().upper()


def hundredths(value: int) -> float:
    """An integer count of hundredths as a float with exactly that decimal value."""
    return float(Decimal(value).scaleb(-2))


def km(metres: int) -> float:
    return float(Decimal(metres).scaleb(-3))


class Cycle:
    """The offline codes of a vendor, handed out in turn so that each appears."""

    def __init__(self, codes: list):
        self.codes, self.next = list(codes), 0

    def take(self):
        code = self.codes[self.next % len(self.codes)]
        self.next += 1
        return code


def is_online(position: int, draw: Draw) -> bool:
    """About 3 in 4 online; positions 4 and 9 always offline, 0 and 1 always online."""
    drawn = draw.chance(0.72)
    if position in (0, 1):
        return True
    if position in (4, 9):
        return False
    return drawn


# --- ZTE C600 (ZXAN 1082 tree, 1-based phase state) ---------------------------------------

ZTE_ONU = "1.3.6.1.4.1.3902.1082.500.10.2.3"
ZTE_OPTICS = "1.3.6.1.4.1.3902.1082.500.20.2.2.2.1"
ZTE_C600_PHASE = {1: "registrando", 2: LOS, 3: "sincronizando MIB", 4: EN_LINEA,
                  5: DYING_GASP, 6: "autenticación fallida", 7: DESCONECTADA}


def zte_c600() -> Recording:
    rec = Recording(
        "zte_c600", "ZTE ZXA10 C600 (GPON), 1082 tree, rows {B}.{onu}",
        "ZXA10 C600 Software Version V1.2.1 (synthetic recording)",
        "1.3.6.1.4.1.3902.1082.1001.600.1.1",
        {"name": f"{ZTE_ONU}.3.1.2", "serial": f"{ZTE_ONU}.3.1.6",
         "phase_state": f"{ZTE_ONU}.8.1.4", "distance_m": f"{ZTE_ONU}.10.1.2",
         "rx_raw": f"{ZTE_OPTICS}.10"})
    draw = Draw(rec.name)
    offline = Cycle([2, 5, 7, 6, 1, 3])
    for position, (slot, port, onu_id) in enumerate(layout(
            draw, [(1, 1, 12), (1, 2, 10), (2, 5, 9)], 1, 128)):
        pon = 0x11010000 + (slot << 8) + port
        i = f"{pon}.{onu_id}"
        online = is_online(position, draw)
        phase = 4 if online else offline.take()
        serial = b"ZTEG" + draw.octets(4)
        text = description(position, draw)
        rx_raw = draw.integer(1000, 7500)      # 0.002 dB steps: -28 .. -15 dBm
        metres = draw.integer(300, 20000)
        rec.add_text(f"{ZTE_ONU}.3.1.2.{i}", text)
        rec.add(f"{ZTE_ONU}.3.1.6.{i}", "4x", serial.hex())
        rec.add(f"{ZTE_ONU}.8.1.4.{i}", "2", phase)
        if online:  # only ranged ONUs have a distance row
            rec.add(f"{ZTE_ONU}.10.1.2.{i}", "2", metres)
        rec.add(f"{ZTE_OPTICS}.10.{i}.1", "2", rx_raw if online else 65535)
        rec.onus.append(Onu(
            slot, port, onu_id, i, f"1/{slot}/{port}:{onu_id}", online,
            serial=gpon_serial_text(serial[:4], serial[4:]), description=shown_description(text),
            state=ZTE_C600_PHASE[phase],
            rx_dbm=float(Decimal(rx_raw * 2 - 30000).scaleb(-3)) if online else None,
            distance_km=km(metres) if online else None))
    return rec


# --- FiberHome AN5516 (single-part onuIndex) ----------------------------------------------

FH_AUTH = "1.3.6.1.4.1.5875.800.3.10.1.1"
FH_OPTICS = "1.3.6.1.4.1.5875.800.3.9.3.3.1"
FH_STATUS = {0: "LOS (corte de fibra)", 1: EN_LINEA, 2: DYING_GASP, 3: DESCONECTADA}


def fiberhome_an5516() -> Recording:
    rec = Recording(
        "fiberhome_an5516", "FiberHome AN5516-01 (GPON), rows {onuIndex}",
        "AN5516-01 (synthetic recording)", "1.3.6.1.4.1.5875.800.1001.11",
        {"slot": f"{FH_AUTH}.2", "pon": f"{FH_AUTH}.3", "onu": f"{FH_AUTH}.4",
         "name": f"{FH_AUTH}.7", "serial": f"{FH_AUTH}.10", "status": f"{FH_AUTH}.11",
         "rx_centi_dbm": f"{FH_OPTICS}.6"})
    draw = Draw(rec.name)
    offline = Cycle([0, 2, 3])
    for position, (slot, pon, onu_id) in enumerate(layout(
            draw, [(11, 1, 12), (11, 2, 10), (12, 3, 8)], 1, 64)):
        index = slot * 2**25 + pon * 2**19 + onu_id * 2**8
        online = is_online(position, draw)
        status = 1 if online else offline.take()
        tail = draw.octets(4)
        text = description(position, draw)
        centi = draw.integer(-2800, -1500)
        rec.add(f"{FH_AUTH}.2.{index}", "2", slot)
        rec.add(f"{FH_AUTH}.3.{index}", "2", pon)
        rec.add(f"{FH_AUTH}.4.{index}", "2", onu_id)
        rec.add_text(f"{FH_AUTH}.7.{index}", text)
        rec.add_text(f"{FH_AUTH}.10.{index}", "FHTT" + tail.hex())   # lower-case hex
        rec.add(f"{FH_AUTH}.11.{index}", "2", status)
        if online:
            rec.add(f"{FH_OPTICS}.6.{index}", "2", centi)
        elif status == 3:
            # offline: no optical row, except "desconectada" ONUs that report 0
            rec.add(f"{FH_OPTICS}.6.{index}", "2", 0)
        rec.onus.append(Onu(
            slot, pon, onu_id, str(index), f"0/{slot}/{pon}:{onu_id}", online,
            serial=gpon_serial_text(b"FHTT", tail), description=shown_description(text),
            state=FH_STATUS[status], rx_dbm=hundredths(centi) if online else None))
    return rec


# --- V-SOL V1600G (GPON, rows {pon}.{onu}) ------------------------------------------------

VSOL_G = "1.3.6.1.4.1.37950.1.1.6.1.1"
VSOL_G_PHASE = {0: "registrando", 1: LOS, 2: "sincronizando MIB", 3: EN_LINEA,
                4: DYING_GASP, 5: "autenticación fallida", 6: DESCONECTADA}


def vsol_v1600g() -> Recording:
    rec = Recording(
        "vsol_v1600g", "V-SOL V1600G4 (GPON), rows {pon}.{onu}, powers as decimal text",
        "V1600G4 (synthetic recording)", "1.3.6.1.4.1.37950.1.1.6",
        {"phase_state": f"{VSOL_G}.1.1.5", "description": f"{VSOL_G}.1.1.7",
         "serial": f"{VSOL_G}.2.1.5", "rx_dbm_text": f"{VSOL_G}.3.1.7"})
    draw = Draw(rec.name)
    offline = Cycle([1, 4, 6, 5])
    for position, (_, pon, onu_id) in enumerate(layout(
            draw, [(0, 1, 12), (0, 2, 11), (0, 4, 8)], 1, 128)):
        i = f"{pon}.{onu_id}"
        online = is_online(position, draw)
        phase = 3 if online else offline.take()
        vendor = draw.choice((b"VSOL", b"VSOL", b"ZTEG", b"HWTC"))
        tail = draw.octets(4)
        text = description(position, draw)
        centi = draw.integer(-2800, -1500)
        rec.add(f"{VSOL_G}.1.1.5.{i}", "2", phase)
        rec.add_text(f"{VSOL_G}.1.1.7.{i}", text)
        rec.add_text(f"{VSOL_G}.2.1.5.{i}", gpon_serial_text(vendor, tail))
        rec.add_text(f"{VSOL_G}.3.1.7.{i}", f"{hundredths(centi):.2f}" if online else "0.00")
        rec.onus.append(Onu(
            0, pon, onu_id, i, f"0/0/{pon}:{onu_id}", online,
            serial=gpon_serial_text(vendor, tail), description=shown_description(text),
            state=VSOL_G_PHASE[phase], rx_dbm=hundredths(centi) if online else None))
    return rec


# --- V-SOL V1600D (EPON, rows {pon}.{onu}, optics "<mW> mW (<dBm> dBm)") ------------------

VSOL_D = "1.3.6.1.4.1.37950.1.1.5.12"


def vsol_v1600d() -> Recording:
    rec = Recording(
        "vsol_v1600d", "V-SOL V1600D8 (EPON), rows {pon}.{onu}, optics as '<mW> mW (<dBm> dBm)'",
        "V1600D8 (synthetic recording)", "1.3.6.1.4.1.37950.1.1.5",
        {"line_status": f"{VSOL_D}.1.25.1.4", "mac": f"{VSOL_D}.1.25.1.5",
         "description": f"{VSOL_D}.1.25.1.9", "distance_m": f"{VSOL_D}.1.25.1.17",
         "rx_text": f"{VSOL_D}.2.1.8.1.7"})
    draw = Draw(rec.name)
    empty = Cycle([False, True])
    for position, (_, pon, onu_id) in enumerate(layout(
            draw, [(0, 1, 10), (0, 3, 9), (0, 4, 7)], 1, 64)):
        i = f"{pon}.{onu_id}"
        online = is_online(position, draw)
        mac_bytes = bytes.fromhex("e0675b") + draw.octets(3)
        text = description(position, draw)
        centi = draw.integer(-2800, -1200)
        metres = draw.integer(300, 20000)
        dbm = hundredths(centi)
        rec.add(f"{VSOL_D}.1.25.1.4.{i}", "2", 1 if online else 0)
        rec.add_text(f"{VSOL_D}.1.25.1.5.{i}", ":".join(f"{b:02x}" for b in mac_bytes))
        rec.add_text(f"{VSOL_D}.1.25.1.9.{i}", text)
        rec.add(f"{VSOL_D}.1.25.1.17.{i}", "66", metres if online else 0)
        if online:
            optics = f"{10 ** (dbm / 10):.2f} mW ({dbm:.2f} dBm)"
        else:
            optics = "" if empty.take() else "0.00 mW (0.00 dBm)"
        rec.add_text(f"{VSOL_D}.2.1.8.1.7.{i}", optics)
        rec.onus.append(Onu(
            0, pon, onu_id, i, f"0/0/{pon}:{onu_id}", online,
            mac=":".join(f"{b:02X}" for b in mac_bytes), description=shown_description(text),
            state=EN_LINEA if online else DESCONECTADA, rx_dbm=dbm if online else None,
            distance_km=km(metres) if online else None))
    return rec


# --- C-Data FD16xx (GPON, NSCRTV tables, V3 index 0x480000 + (port-1)*4096 + onu) --------

CDATA_G = "1.3.6.1.4.1.17409.2.8.4"
CDATA_G_STATUS = {1: EN_LINEA, 2: DESCONECTADA}


def cdata_fd16xx() -> Recording:
    rec = Recording(
        "cdata_fd16xx", "C-Data FD1616S (GPON), rows {0x480000 + (port-1)*4096 + onu}",
        "FD1616S (synthetic recording)", "1.3.6.1.4.1.17409",
        {"name": f"{CDATA_G}.1.1.2", "serial": f"{CDATA_G}.1.1.3",
         "oper_status": f"{CDATA_G}.1.1.7", "distance_m": f"{CDATA_G}.1.1.9",
         "rx_centi_dbm (rows {index}.0.0)": f"{CDATA_G}.4.1.4"})
    draw = Draw(rec.name)
    for position, (_, port, onu_id) in enumerate(layout(
            draw, [(0, 1, 12), (0, 3, 10), (0, 8, 8)], 1, 128)):
        index = 0x480000 + (port - 1) * 4096 + onu_id
        online = is_online(position, draw)
        vendor = draw.choice((b"CDTC", b"CDTC", b"HWTC", b"ZTEG"))
        serial = vendor + draw.octets(4)
        text = description(position, draw, default=f"gpon 0/0/{port} onu {onu_id}")
        centi = draw.integer(-2800, -1500)
        metres = draw.integer(300, 20000)
        rec.add_text(f"{CDATA_G}.1.1.2.{index}", text)
        rec.add(f"{CDATA_G}.1.1.3.{index}", "4x", serial.hex())
        rec.add(f"{CDATA_G}.1.1.7.{index}", "2", 1 if online else 2)
        rec.add(f"{CDATA_G}.1.1.9.{index}", "2", metres if online else 0)
        rec.add(f"{CDATA_G}.4.1.4.{index}.0.0", "2", centi if online else 65535)
        rec.onus.append(Onu(
            0, port, onu_id, str(index), f"0/0/{port}:{onu_id}", online,
            serial=gpon_serial_text(serial[:4], serial[4:]), description=shown_description(text),
            state=CDATA_G_STATUS[1 if online else 2], rx_dbm=hundredths(centi) if online else None,
            distance_km=km(metres) if online else None))
    return rec


# --- C-Data FD11xx (EPON, rows 1.{pon}.{onu}, rx in tenths of a microwatt) ----------------

CDATA_E = "1.3.6.1.4.1.34592.1.3.4.1.1"


def cdata_fd11xx() -> Recording:
    rec = Recording(
        "cdata_fd11xx", "C-Data FD1108S (EPON), rows 1.{pon}.{onu}, rx in 0.1 µW",
        "FD1108S (synthetic recording)", "1.3.6.1.4.1.34592",
        {"serial": f"{CDATA_E}.3.1", "name": f"{CDATA_E}.4.1", "mac": f"{CDATA_E}.7.1",
         "distance_m": f"{CDATA_E}.13.1", "rx_tenths_uw": f"{CDATA_E}.36.1"})
    draw = Draw(rec.name)
    no_reading = Cycle([65535, 0])
    for position, (_, pon, onu_id) in enumerate(layout(
            draw, [(0, 1, 11), (0, 2, 10), (0, 4, 8)], 1, 64)):
        i = f"{pon}.{onu_id}"
        online = is_online(position, draw)
        tail = draw.octets(4)
        mac_bytes = bytes.fromhex("a84f1e") + draw.octets(3)
        text = description(position, draw)
        rx_raw = draw.integer(16, 316)         # 0.1 µW: about -28 .. -15 dBm
        metres = draw.integer(300, 20000)
        rec.add_text(f"{CDATA_E}.3.1.{i}", gpon_serial_text(b"CDTE", tail))
        rec.add_text(f"{CDATA_E}.4.1.{i}", text)
        rec.add(f"{CDATA_E}.7.1.{i}", "4x", mac_bytes.hex())
        rec.add(f"{CDATA_E}.13.1.{i}", "2", metres if online else 0)
        rec.add(f"{CDATA_E}.36.1.{i}", "2", rx_raw if online else no_reading.take())
        rec.onus.append(Onu(
            0, pon, onu_id, i, f"0/0/{pon}:{onu_id}", online,
            serial=gpon_serial_text(b"CDTE", tail),
            mac=":".join(f"{b:02X}" for b in mac_bytes), description=shown_description(text),
            state=None,   # the FD11xx ONU table has no state column
            rx_dbm=round(10 * math.log10(rx_raw) - 40, 6) if online else None,
            distance_km=km(metres) if online else None))
    return rec


# --- "UBNT-like" onboarding vendor: rows indexed by the length-prefixed ASCII serial -------

UBNT = "1.3.6.1.4.1.41112.1.10.1.4.1"
UBNT_STATUS = {1: EN_LINEA, 2: DESCONECTADA}


def ubnt_string() -> Recording:
    rec = Recording(
        "ubnt_string", "Invented UFiber-like OLT: rows indexed by the length-prefixed serial",
        "UFiber OLT (synthetic recording, invented MIB)", "1.3.6.1.4.1.41112.1.10",
        {"port": f"{UBNT}.2", "name": f"{UBNT}.3", "status": f"{UBNT}.4",
         "rx_centi_dbm": f"{UBNT}.5", "distance_m": f"{UBNT}.6"})
    draw = Draw(rec.name)
    ports = [1] * 8 + [2] * 7 + [3] * 6 + [5] * 5 + [8] * 4        # 30 ONUs
    serials: set[str] = set()
    for position, port in enumerate(ports):
        serial = "UBNT" + draw.octets(4).hex().upper()
        assert serial not in serials
        serials.add(serial)
        index = ".".join(map(str, (len(serial), *serial.encode("ascii"))))
        online = is_online(position, draw)
        text = description(position, draw)
        centi = draw.integer(-2800, -1500)
        metres = draw.integer(300, 20000)
        rec.add(f"{UBNT}.2.{index}", "2", port)
        rec.add_text(f"{UBNT}.3.{index}", text)
        rec.add(f"{UBNT}.4.{index}", "2", 1 if online else 2)
        rec.add(f"{UBNT}.5.{index}", "2", centi if online else 0)
        rec.add(f"{UBNT}.6.{index}", "2", metres if online else 0)
        rec.onus.append(Onu(
            0, port, None, index, f"0/0/{port}:{serial}", online, serial=serial,
            description=shown_description(text), state=UBNT_STATUS[1 if online else 2],
            rx_dbm=hundredths(centi) if online else None,
            distance_km=km(metres) if online else None))
    return rec


SCHEMES: dict[str, Callable[[], Recording]] = {
    "zte_c600": zte_c600,
    "fiberhome_an5516": fiberhome_an5516,
    "vsol_v1600g": vsol_v1600g,
    "vsol_v1600d": vsol_v1600d,
    "cdata_fd16xx": cdata_fd16xx,
    "cdata_fd11xx": cdata_fd11xx,
    "ubnt_string": ubnt_string,
}


def files(name: str) -> dict[str, str]:
    """File name -> content for one scheme."""
    rec = SCHEMES[name]()
    return {f"{name}.snmprec": snmprec_text(rec), f"{name}.expected.json": expected_json(rec)}


def all_files() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in SCHEMES:
        out.update(files(name))
    return out


def write(out_dir: Path = OUT_DIR) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, content in all_files().items():
        path = out_dir / file_name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def stale(out_dir: Path = OUT_DIR) -> list[str]:
    """Files in ``out_dir`` that differ from what the generator writes (or are missing)."""
    return [name for name, content in all_files().items()
            if not (out_dir / name).is_file()
            or (out_dir / name).read_text(encoding="utf-8") != content]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--check", action="store_true",
                        help="only compare with the files in --out; exit 1 if any differs")
    args = parser.parse_args(argv)
    if args.check:
        differing = stale(args.out)
        for name in differing:
            print(f"out of date: {name}", file=sys.stderr)
        return 1 if differing else 0
    for path in write(args.out):
        print(path.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
