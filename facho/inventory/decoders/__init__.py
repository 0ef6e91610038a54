"""Decoding an ONU table's row index into frame / slot / port / ONU id, one module per kind.

A row index is the OID suffix after a column (a tuple of ints; dotted text is accepted). A
formula is a plain dict, as stored in ``IndexFormula.params`` (``params["kind"]`` repeats
its ``kind`` column):

- ``linear`` (Huawei): ``<ponIndex>.<onu>``, ponIndex = base + slot·step_slot + port·step_port
  (``linear.py``);
- ``bitshift`` (ZTE, FiberHome, C-Data): fields in the bits of one number (``bitshift.py``);
- ``dotted`` (V-SOL, C-Data FD11xx): one number per sub-id (``dotted.py``);
- ``string`` (serial-keyed tables): the index is a text key (``string.py``).

Every kind also takes ``frame``, ``max_trailing``, ``*_offset`` and ``from_columns`` (see
``base.COMMON_AYUDA`` and ``registry``). ``KINDS`` is the registry (label, help and example
for the formula form), ``schemes.SCHEMES`` the known vendors' params. Errors are
ValueError with a Spanish message that says what to fix.
"""
from __future__ import annotations

from facho.inventory.decoders.base import DecodedIndex, Kind
from facho.inventory.decoders.base import dotted as index_text
from facho.inventory.decoders.registry import (KINDS, column_oids, decode_index, decoder,
                                               describe, encode_index, encode_index_key,
                                               row_key, validate_formula)
from facho.inventory.decoders.schemes import (HUAWEI_GPON, SCHEMES, SHIPPED_FORMULAS, ZTE_C300,
                                              ZTE_C320)

__all__ = [
    "DecodedIndex", "Kind", "KINDS", "column_oids", "decode_index", "decoder", "describe",
    "index_text", "encode_index", "encode_index_key", "row_key", "validate_formula",
    "HUAWEI_GPON", "SCHEMES", "SHIPPED_FORMULAS", "ZTE_C300", "ZTE_C320",
]
