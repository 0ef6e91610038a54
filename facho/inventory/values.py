"""Turning raw SNMP values into what the ONU inventory stores. Pure functions.

Every function takes the plain value ``facho.snmp`` returns (``bytes`` for OCTET STRING,
``int`` for numbers) and also the text forms operators paste or older rows hold. They return
``None`` for "the device has no value" (empty strings, documented sentinel numbers such as
2147483647) and raise ``ValueError`` for input that cannot be what the OID promises.

``FORMATTERS`` maps the ``formato`` names stored on ``Oid`` rows (see
``facho.inventory.profiles``) to these functions; ``apply_format(formato, value)`` uses it.
The rest of an OID's value rule (regex, sin_valor, unidad, escala, desplazamiento, decimales,
etiquetas) is ``facho.inventory.value_rules``, which runs the format as one of its steps.
"""
from __future__ import annotations

import math
import re
import string
from typing import Any, Callable

# Numbers vendors use for "no reading" instead of leaving the row out.
INT32_MAX, INT32_MIN = 2147483647, -2147483648
NO_VALUE_INT32 = frozenset({INT32_MAX, INT32_MIN})
_HEX = frozenset(string.hexdigits)
_SEPARATORS = re.compile(r"[\s:.\-]")
_VENDOR_CHARS = frozenset(string.ascii_uppercase + string.digits)


def text(value: Any) -> str | None:
    """Readable text: bytes decode as UTF-8 (Latin-1 if that fails, as older firmware sends),
    NULs and surrounding blanks are dropped; empty -> None."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            value = bytes(value).decode("latin-1")
    cleaned = str(value).replace("\x00", "").strip()
    return cleaned or None


def integer(value: Any) -> int | None:
    """An integer reading; the int32 extremes (no-reading markers) -> None."""
    if value is None or value == b"" or value == "":
        return None
    number = int(value)
    return None if number in NO_VALUE_INT32 else number


def _ascii_text(value: bytes) -> str | None:
    """The bytes as text if they are printable ASCII (a serial or MAC sent as a string)."""
    if value.isascii() and all(32 <= b < 127 for b in value):
        return value.decode("ascii")
    return None


def gpon_serial(value: Any) -> str | None:
    """GPON serial number as 4 vendor letters + 8 uppercase hex digits, e.g. ``HWTCA3B1799D``.

    Accepts the 8 raw octets the OLTs send (4 ASCII vendor-id letters, then 4 binary bytes),
    the same as text (``HWTCA3B1799D``, ``hwtc-a3b1799d``) or as 16 hex digits
    (``48575443A3B1799D``, with or without ``0x`` and separators). All zeros -> None.
    Octets whose vendor part is not letters/digits come back as 16 hex digits.
    """
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
        if not raw or not raw.strip(b"\x00 "):
            return None
        if len(raw) == 8:
            vendor = raw[:4]
            if all(chr(b) in _VENDOR_CHARS for b in vendor.upper()):
                return vendor.decode("ascii").upper() + raw[4:].hex().upper()
            return raw.hex().upper()
        as_text = _ascii_text(raw)
        if as_text is None:
            raise ValueError(f"serial GPON inválido: {raw.hex()} ({len(raw)} octetos)")
        value = as_text
    cleaned = _SEPARATORS.sub("", str(value)).upper()
    if cleaned.startswith("0X"):
        cleaned = cleaned[2:]
    if not cleaned:
        return None
    if len(cleaned) == 16 and set(cleaned) <= _HEX:
        return gpon_serial(bytes.fromhex(cleaned))
    if (len(cleaned) == 12 and set(cleaned[:4]) <= _VENDOR_CHARS
            and set(cleaned[4:]) <= _HEX):
        return cleaned
    raise ValueError(f"serial GPON inválido: {value!r}")


def mac(value: Any) -> str | None:
    """MAC address as ``AA:BB:CC:DD:EE:FF``.

    Accepts 6 raw octets, or text with ``:``/``-``/``.`` separators or none
    (``aa-bb-cc-dd-ee-ff``, ``aabb.ccdd.eeff``, ``AABBCCDDEEFF``). All zeros -> None.
    """
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
        if len(raw) == 6:
            hexed = raw.hex()
        elif not raw:
            return None
        else:
            as_text = _ascii_text(raw)
            if as_text is None:
                raise ValueError(f"MAC inválida: {raw.hex()} ({len(raw)} octetos)")
            return mac(as_text)
    else:
        hexed = _SEPARATORS.sub("", str(value))
        if not hexed:
            return None
        if hexed.lower().startswith("0x"):
            hexed = hexed[2:]
    if len(hexed) != 12 or not set(hexed) <= _HEX:
        raise ValueError(f"MAC inválida: {value!r}")
    if int(hexed, 16) == 0:
        return None
    hexed = hexed.upper()
    return ":".join(hexed[i:i + 2] for i in range(0, 12, 2))


def dbm_huawei(raw: Any) -> float | None:
    """Huawei optical power: raw unit 0.01 dBm -> dBm (2 decimals).
    2147483647 / -2147483648 mean "no reading" (ONT offline) -> None."""
    number = integer(raw)
    return None if number is None else round(number / 100, 2)


ZTE_NO_VALUE = frozenset({65535}) | NO_VALUE_INT32


def dbm_zte(raw: Any) -> float | None:
    """ZTE C300/C320 ONU optical power: dBm = raw * 0.002 - 30 (3 decimals).
    65535 and the int32 extremes mean "no reading" -> None."""
    if raw is None or raw == b"" or raw == "":
        return None
    number = int(raw)
    if number in ZTE_NO_VALUE:
        return None
    return round(number * 0.002 - 30, 3)


DISTANCE_NO_VALUE = frozenset({-1, 65535}) | NO_VALUE_INT32


def distance_km(metres: Any) -> float | None:
    """ONU ranging distance: metres -> kilometres (3 decimals).
    -1 (Huawei, ONT offline), 65535 and the int32 extremes -> None (GPON reach is at most
    60 km, so none of them can be a real distance)."""
    if metres is None or metres == b"" or metres == "":
        return None
    number = int(metres)
    if number in DISTANCE_NO_VALUE or number < 0:
        return None
    return round(number / 1000, 3)


_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-"})  # −, – as typed or pasted
_NUMBER_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def numero(value: Any) -> float | None:
    """A number as ``float``: ints, and text or bytes such as ``-14.61``, ``-14,61`` (decimal
    comma), ``−14,61`` (typographic minus), `` 3.5 ``. Empty -> None. Unlike ``int`` it knows
    no sentinels: the OID's ``sin_valor`` rule says which raw values mean "no value".
    Text that is not just a number (``-14.61 dBm``, ``1.234,5``, ``nan``) -> ValueError."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"número inválido: {value!r}")
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            raise ValueError(f"número fuera de rango: {value}") from None
    else:
        shown = text(value)
        if shown is None:
            return None
        cleaned = shown.translate(_MINUS_SIGNS)
        if "," in cleaned and "." not in cleaned and cleaned.count(",") == 1:
            cleaned = cleaned.replace(",", ".")
        if not _NUMBER_TEXT.fullmatch(cleaned):
            raise ValueError(f"número inválido: «{shown}»")
        number = float(cleaned)
    if not math.isfinite(number):
        raise ValueError(f"número inválido: {value!r}")
    return number


# Numeric formats whose value is the device's raw number (what `unidad` converts).
RAW_NUMBER_FORMATS = ("int", "numero")
# Formats whose value is a number.
NUMERIC_FORMATS = RAW_NUMBER_FORMATS + ("dbm_huawei", "dbm_zte", "distance_km")

HUAWEI_RUN_STATUS = {1: "online", 2: "offline"}


def status_huawei(raw: Any) -> str | None:
    """Huawei ``hwGponDeviceOntControlRunStatus``: 1 -> ``online``, 2 -> ``offline``;
    anything else (e.g. -1 while the ONT is being configured) -> None."""
    if raw is None or raw == b"" or raw == "":
        return None
    return HUAWEI_RUN_STATUS.get(int(raw))


FORMATTERS: dict[str, Callable[[Any], Any]] = {
    "text": text,
    "int": integer,
    "numero": numero,
    "gpon_serial": gpon_serial,
    "mac": mac,
    "dbm_huawei": dbm_huawei,
    "dbm_zte": dbm_zte,
    "distance_km": distance_km,
    "status_huawei": status_huawei,
}


def apply_format(formato: str, value: Any) -> Any:
    """Apply the named rule; an unknown ``formato`` is a configuration error (ValueError)."""
    try:
        rule = FORMATTERS[formato]
    except KeyError:
        raise ValueError(f"formato desconocido {formato!r}; válidos: "
                         f"{', '.join(sorted(FORMATTERS))}") from None
    return rule(value)
