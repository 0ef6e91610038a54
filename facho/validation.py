"""Pure validators for operator input. Each raises ValueError with a Spanish message
that says what to fix; the panel shows it under the field and the CLI prints it."""
from __future__ import annotations

import ipaddress
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_HOSTNAME_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_OID = re.compile(r"^\.?[0-2](\.(0|[1-9]\d{0,9})){1,127}$")
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,80}$")


def validate_username(value: str) -> str:
    value = (value or "").strip()
    if not _USERNAME.fullmatch(value):
        raise ValueError("Usuario inválido: use de 1 a 80 letras, números o _ . @ -")
    return value


def validate_host(value: str) -> str:
    """An IPv4/IPv6 address or a DNS host name."""
    value = (value or "").strip()
    if not value:
        raise ValueError("Ingrese la dirección IP o el nombre de host de la OLT.")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if re.fullmatch(r"[\d.]+", value):
        raise ValueError(f"Dirección IP inválida: '{value}' (ejemplo: 10.0.0.1)")
    labels = value.rstrip(".").split(".")
    if len(value) > 253 or not all(_HOSTNAME_LABEL.match(label) for label in labels):
        raise ValueError(f"Dirección inválida: '{value}' no es una IP ni un nombre de host.")
    return value.lower()


def validate_port(value) -> int:
    try:
        port = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValueError("Puerto inválido: debe ser un número entre 1 y 65535.") from None
    if not 1 <= port <= 65535:
        raise ValueError("Puerto inválido: debe estar entre 1 y 65535.")
    return port


def validate_oid(value: str) -> str:
    """Dotted numeric OID, e.g. 1.3.6.1.2.1.1.1.0 (a leading dot is dropped)."""
    value = (value or "").strip()
    if not _OID.fullmatch(value):
        raise ValueError(
            "OID inválido: use números separados por puntos (ejemplo: 1.3.6.1.2.1.1.1.0).")
    return value.lstrip(".")


def validate_community(value: str) -> str:
    if value is None or not value.strip():
        raise ValueError("La comunidad SNMP no puede estar vacía.")
    if len(value) > 255 or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("Comunidad SNMP inválida: sin caracteres de control, hasta 255.")
    return value


def validate_timezone(value: str) -> str:
    value = (value or "").strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"Zona horaria desconocida: '{value}' (ejemplo: America/Lima).") from None
    return value


def validate_name(value: str, field: str = "Nombre", max_len: int = 120) -> str:
    value = (value or "").strip()
    if not value:
        raise ValueError(f"{field}: no puede estar vacío.")
    if len(value) > max_len:
        raise ValueError(f"{field}: máximo {max_len} caracteres.")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"{field}: no puede contener caracteres de control.")
    return value
