"""Optical power limits an operator reads an ONU's rx power against (dBm).

GPON ONU receivers (ITU-T G.984.2): class B+ optics are specified down to about −27 dBm,
class C+ down to about −30 dBm, and saturate above about −8 dBm. The ONU page draws these
as lines; the alert rules (issue 13) take their defaults from here too.
"""
from __future__ import annotations

RX_WARNING_DBM = -27.0     # B+ sensitivity: below this, the link has no margin left
RX_CRITICAL_DBM = -30.0    # C+ sensitivity: below this, even C+ optics lose frames
RX_OVERLOAD_DBM = -8.0     # above this, the receiver saturates

RX_LINES = (
    ("saturación", RX_OVERLOAD_DBM),
    ("aviso (B+)", RX_WARNING_DBM),
    ("crítico (C+)", RX_CRITICAL_DBM),
)
