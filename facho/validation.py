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
        if len(value) > 64:       # IANA names are short; a long one reaches the file system
            raise ValueError(value)
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):   # OSError: "File name too long"
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


def validate_interval(value: str) -> str:
    """`30s`, `5m`, `2h`, `1d`: a positive number and one unit, at most 365 days."""
    from facho.scheduling.schedule import parse_interval

    value = (value or "").strip()
    parse_interval(value)  # raises ValueError with the Spanish message
    return value


def validate_cron(expr: str, tz: str) -> tuple[str, str]:
    """A 5-field cron expression and its IANA time zone; returns both normalised."""
    from facho.scheduling.schedule import validate_cron as check

    tz = validate_timezone(tz)
    return check((expr or "").strip(), tz), tz


def validate_schedule_choice(interval_raw: str | None, cron_expr: str | None) -> None:
    """A job runs either on an interval or on a cron expression: exactly one of them."""
    has_interval, has_cron = bool((interval_raw or "").strip()), bool((cron_expr or "").strip())
    if has_interval and has_cron:
        raise ValueError("Indique un intervalo o una expresión cron, no ambos.")
    if not has_interval and not has_cron:
        raise ValueError("Indique un intervalo (por ejemplo 5m) o una expresión cron.")


# Parameters that must be non-negative integers when present (facho.inventory.index_formulas).
_FORMULA_INT_PARAMS = ("base", "step_slot", "step_port", "frame", "slot_shift", "slot_mask",
                       "port_shift", "port_mask", "onu_shift", "onu_mask", "max_trailing")
FORMULA_EXAMPLE = '{"base": 4194304000, "step_slot": 8192, "step_port": 256}'


def validate_formula_params(kind: str, params) -> dict:
    """JSON parameters of an index formula (text or dict) for `kind`; returns the dict with
    `kind` filled in, as facho.inventory.index_formulas expects it."""
    import json

    from facho.inventory.index_formulas import validate_formula

    if isinstance(params, str):
        try:
            params = json.loads(params.strip() or "{}")
        except ValueError:
            raise ValueError(f"Parámetros inválidos: no es JSON válido (ejemplo: "
                             f"{FORMULA_EXAMPLE}).") from None
    if not isinstance(params, dict):
        raise ValueError("Parámetros inválidos: deben ser un objeto JSON ({...}).")
    if params.get("kind", kind) != kind:
        raise ValueError(f"Parámetros inválidos: 'kind' dice {params['kind']!r} "
                         f"pero el tipo elegido es {kind!r}.")
    params = {**params, "kind": kind}
    for key in _FORMULA_INT_PARAMS:
        value = params.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"Parámetro {key!r}: debe ser un número entero no negativo.")
    positions = params.get("positions", {})
    if not isinstance(positions, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0
            for v in positions.values()):
        raise ValueError("Parámetro 'positions': use un objeto como "
                         '{"slot": 0, "port": 1, "onu": 2}.')
    try:
        validate_formula(params)
    except ValueError as exc:
        raise ValueError(f"Parámetros inválidos: {exc}.") from None
    return params
