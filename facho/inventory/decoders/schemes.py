"""Index formulas of the OLT families Facho knows, as ready params (``IndexFormula.params``).

``SCHEMES`` maps a name to its params; each is tested with its vendor's worked example in
tests/inventory/decoders/test_schemes.py. ``SHIPPED_FORMULAS`` is what ``flask facho seed``
loads into the database (modelo "" = the brand's default formula); the other schemes are
there to copy into a formula when an OLT of that family is added.

Names come out as the vendor's CLI shows them: Huawei frame 0 (``0/5/1:14``), ZTE shelf 1
(``gpon-onu_1/2/5:17`` -> ``1/2/5:17``), V-SOL and C-Data FD16xx without slot (``0/0/2:7``).
"""
from __future__ import annotations

from typing import Any

# Huawei MA5600T/MA5800 GPON: a port's ifIndex is 0xFA000000 (4194304000) + slot * 8192 +
# port * 256 and hwGponDeviceOnt* rows are {ifIndex}.{ontId}; 0/5/1 ONT 14 -> 4194345216.14.
# Source: HUAWEI-XPON-MIB ONT tables, checked on tests/data/snmprec/smartax.snmprec.
HUAWEI_GPON: dict[str, Any] = {
    "kind": "linear", "base": 4194304000, "step_slot": 8192, "step_port": 256, "frame": 0,
}
# ZTE C300/C320, legacy tree 1.3.6.1.4.1.3902.1012 ("index A"): 0x10000000 + (slot << 16)
# + (port << 8), rows {A}.{onu}; rx power rows add a trailing .1. gpon-onu_1/2/5:17 ->
# 268567808.17. Source: ZTE "ZXA10 C3xx MIB Specifications" (2015), §2 composite index;
# checked on tests/data/snmprec/zxa10_c320.snmprec.
ZTE_C320: dict[str, Any] = {
    "kind": "bitshift", "base": 0x10000000, "slot_shift": 16, "slot_mask": 0xFF,
    "port_shift": 8, "port_mask": 0xFF, "frame": 1, "max_trailing": 1,
}
ZTE_C300 = ZTE_C320  # same PON index layout (verified on the C320 recording)
# ZTE C600/C610/C620, and C300/C320 firmware V2.x, tree 1.3.6.1.4.1.3902.1082 ("index B"):
# 0x11010000 + (slot << 8) + port, rows {B}.{onu}; gpon_olt-1/2/1 ONU 3 -> 285278721.3.
# Source: ZTE-AN-PON-BASE-MIB interface index (0x11 = PON type, 0x01 = rack), as the
# issue 11 vendor reference gives it.
ZTE_C600: dict[str, Any] = {
    "kind": "bitshift", "base": 0x11010000, "slot_shift": 8, "slot_mask": 0xFF,
    "port_shift": 0, "port_mask": 0xFF, "frame": 1, "max_trailing": 1,
}
# FiberHome AN5516: one number, slot * 2^25 + PON * 2^19 + ONU * 2^8; bits 0-7 are the
# ONU's own port (0 for the ONU row), bit 31 the sign (0). Slot 11, PON 1, ONU 1 ->
# 369623296. Source: FiberHome "GEPON 5116/5516 MIB Open Interface Specifications", §1.1
# signed index (slot 6 bits, PON 6 bits, ONU 11 bits, port 8 bits).
FIBERHOME_AN5516: dict[str, Any] = {
    "kind": "bitshift", "base": 0, "slot_shift": 25, "slot_mask": 0x3F, "port_shift": 19,
    "port_mask": 0x3F, "onu_shift": 8, "onu_mask": 0x7FF, "frame": 0,
}
# V-SOL V1600G (GPON) and V1600D (EPON): ONU rows {pon}.{onu}, no slot; PON 2 ONU 7 -> 2.7.
# Source: issue 11 vendor reference (V-SOL OLT MIB ONU tables).
VSOL_V1600: dict[str, Any] = {"kind": "dotted", "positions": {"port": 0, "onu": 1}, "frame": 0}
# C-Data FD16xx GPON, "V3" MIB: one number, 0x480000 + (port - 1) * 4096 + onu (port
# counted from 1 in the CLI, from 0 in the index); gpon 0/0/3:7 -> 4726791, 0/0/1:1 ->
# 4718593. ONU in the low 12 bits, port above it (6 bits: the same mask as the shipped
# cdata-fd16xx profile); rx power rows add two trailing sub-ids, {index}.0.0. Source:
# issue 11 reference; checked on tests/data/snmprec/synthetic/cdata_fd16xx.snmprec.
CDATA_FD16XX_V3: dict[str, Any] = {
    "kind": "bitshift", "base": 0x480000, "port_shift": 12, "port_mask": 0x3F,
    "onu_shift": 0, "onu_mask": 0xFFF, "port_offset": 1, "frame": 0, "max_trailing": 2,
}
# C-Data FD17xx, "V3" MIB: FD16xx's layout plus the slot in the top byte, (slot << 24) +
# 0x480000 + (port - 1) * 0x1000 + onu; slot 1 port 3 ONU 7 -> 21504007. Source: issue 11.
CDATA_FD17XX_V3: dict[str, Any] = dict(CDATA_FD16XX_V3, slot_shift=24, slot_mask=0xFF)
# C-Data EPON with the NSCRTV MIB: EponDeviceIndex = device (8 bits) | card (8) | PON port
# (8) | ONU (8); 16780033 = 0x01000B01 -> device 1, card 0, port 11, ONU 1 = 1/0/11:1 (the
# device is the frame, the card the slot). Source: NSCRTV-EPONEOC-EPON-MIB, TC
# EponDeviceIndex.
CDATA_NSCRTV: dict[str, Any] = {
    "kind": "bitshift", "base": 0, "frame_shift": 24, "frame_mask": 0xFF, "slot_shift": 16,
    "slot_mask": 0xFF, "port_shift": 8, "port_mask": 0xFF, "onu_shift": 0, "onu_mask": 0xFF,
}
# C-Data FD11xx (EPON boxes): ONU rows {pon}.{onu}, as V-SOL. Source: issue 11 reference.
CDATA_FD11XX: dict[str, Any] = dict(VSOL_V1600)
# A Ubiquiti UFiber-like table keyed by the ONU serial: the index is the serial as a
# length-prefixed ASCII string ("UBNT12345678" -> 12.85.66.78.84.49...), the PON port an
# INTEGER column of the same table. The OLT is invented (no public MIB): the column is the
# one of tests/data/snmprec/synthetic/ubnt_string.snmprec; a real OLT's profile names its
# own. Source: SNMP's encoding of a variable-length OCTET STRING index (RFC 2578 §7.7).
UBIQUITI_SERIAL: dict[str, Any] = {
    "kind": "string", "length": "prefixed", "chars": "ascii", "frame": 0,
    "from_columns": {"port": {"oid": "1.3.6.1.4.1.41112.1.10.1.4.1.2"}},
}

SCHEMES: dict[str, dict[str, Any]] = {
    "huawei_gpon": HUAWEI_GPON,
    "zte_c300_c320": ZTE_C320,
    "zte_c600_c300v2": ZTE_C600,
    "fiberhome_an5516": FIBERHOME_AN5516,
    "vsol_v1600": VSOL_V1600,
    "cdata_fd16xx_v3": CDATA_FD16XX_V3,
    "cdata_fd17xx_v3": CDATA_FD17XX_V3,
    "cdata_nscrtv": CDATA_NSCRTV,
    "cdata_fd11xx": CDATA_FD11XX,
    "ubiquiti_serial": UBIQUITI_SERIAL,
}

# What `flask facho seed` loads into IndexFormula (modelo "" = the brand's default).
SHIPPED_FORMULAS: list[dict[str, Any]] = [
    {"nombre": "Huawei GPON (MA56xx/MA5800)", "marca": "Huawei", "modelo": "",
     "params": HUAWEI_GPON},
    {"nombre": "ZTE GPON (C300/C320)", "marca": "ZTE", "modelo": "", "params": ZTE_C320},
]
