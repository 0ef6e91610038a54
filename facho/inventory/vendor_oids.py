"""Known vendor OIDs, as data for ``flask facho seed`` (one ``Oid`` row per entry).

Each entry: ``nombre`` (unique), ``oid`` (a table column, walked), ``marca``, ``espacio``
(which ONU field it feeds) and ``formato`` (the ``facho.inventory.values.FORMATTERS`` rule that turns
the raw value into that field). The same column may feed two spaces: a discovery job walks
the serial column to find ONUs, and a ``serial`` get job refreshes it.

Sources: DESIGN section 5; the ZTE entries were checked against the C320 recording in
``tests/data/snmprec/zxa10_c320.snmprec`` (ranging table rows ``<ponIndex>.<onuId>``).
Row indexes decode with ``facho.inventory.index_formulas`` (Huawei: linear, ZTE: bitshift).
"""
from __future__ import annotations

HUAWEI_ONT = "1.3.6.1.4.1.2011.6.128.1.1.2"
ZTE_GPON = "1.3.6.1.4.1.3902.1012.3"


def _entry(nombre: str, oid: str, marca: str, espacio: str, formato: str) -> dict:
    return {"nombre": nombre, "oid": oid, "marca": marca, "espacio": espacio,
            "formato": formato}


VENDOR_OIDS: list[dict] = [
    # Huawei MA56xx / MA5800: rows <ponIfIndex>.<ontId>
    _entry("Huawei ONT descubrimiento", f"{HUAWEI_ONT}.43.1.3", "Huawei",
           "descubrimiento", "gpon_serial"),
    _entry("Huawei ONT serial", f"{HUAWEI_ONT}.43.1.3", "Huawei", "serial", "gpon_serial"),
    _entry("Huawei ONT descripción", f"{HUAWEI_ONT}.43.1.9", "Huawei", "descripcion", "text"),
    _entry("Huawei ONT estado", f"{HUAWEI_ONT}.46.1.15", "Huawei", "estado", "status_huawei"),
    _entry("Huawei ONT distancia", f"{HUAWEI_ONT}.46.1.20", "Huawei", "distancia_onu",
           "distance_km"),
    _entry("Huawei ONT potencia RX", f"{HUAWEI_ONT}.51.1.4", "Huawei", "rx_power",
           "dbm_huawei"),
    _entry("Huawei ONT potencia TX", f"{HUAWEI_ONT}.51.1.3", "Huawei", "tx_power",
           "dbm_huawei"),
    # ZTE C300 / C320: rows <ponIndex>.<onuId>, ponIndex = 0x10000000 + slot<<16 + port<<8
    _entry("ZTE ONU descubrimiento", f"{ZTE_GPON}.28.1.1.5", "ZTE", "descubrimiento",
           "gpon_serial"),
    _entry("ZTE ONU serial", f"{ZTE_GPON}.28.1.1.5", "ZTE", "serial", "gpon_serial"),
    _entry("ZTE ONU nombre", f"{ZTE_GPON}.28.1.1.2", "ZTE", "descripcion", "text"),
    _entry("ZTE ONU distancia", f"{ZTE_GPON}.11.4.1.2", "ZTE", "distancia_onu", "distance_km"),
    # rows <ponIndex>.<onuId>.1: the ZTE formula allows that one trailing sub-id
    _entry("ZTE ONU potencia RX", f"{ZTE_GPON}.50.12.1.1.10", "ZTE", "rx_power", "dbm_zte"),
]


def oids_for(marca: str, espacio: str) -> list[dict]:
    """The shipped entries of one brand feeding one space."""
    return [e for e in VENDOR_OIDS if e["marca"] == marca and e["espacio"] == espacio]
