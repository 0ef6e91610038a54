"""Pure validators for operator input. Each raises ValueError with a Spanish message
that says what to fix; the panel shows it under the field and the CLI prints it."""
from __future__ import annotations

import ipaddress
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from facho.inventory.decoders import KINDS, validate_formula
from facho.inventory.writes import InventoryConfigError, field_rule
from facho.scheduling.schedule import parse_interval
from facho.scheduling.schedule import validate_cron as schedule_validate_cron

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


EMPTY_COMMUNITY = "La comunidad SNMP no puede estar vacía."


def validate_community(value: str) -> str:
    if value is None or not value.strip():
        raise ValueError(EMPTY_COMMUNITY)
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


def validate_interval(value: str, minimum_s: int = 1) -> str:
    """`30s`, `5m`, `2h`, `1d`: a positive number and one unit, at most 365 days, and not
    under `minimum_s` (FACHO_MIN_INTERVAL_S): a 1 s job with a 5 s walk only piles up
    skipped slots (80 % of 86,400 rows per OLT per day)."""
    value = (value or "").strip()
    seconds = parse_interval(value).total_seconds()  # raises ValueError in Spanish
    if seconds < minimum_s:
        raise ValueError(
            f"Intervalo demasiado corto: el mínimo es {minimum_s} s (FACHO_MIN_INTERVAL_S). "
            "Si una ejecución dura más que el intervalo, los turnos siguientes en esa OLT "
            "se omiten.")
    return value


# What a job of each type needs from its OIDs (facho.inventory.discovery, facho.inventory.get_values).
def validate_job_oids(job_type: str, oids) -> list[str]:
    """Spanish problems of a job's OID selection that would only show when it runs: a
    discovery job without a discovery OID, a read job without an OID that writes a field,
    an OID whose default value does not fit its field. Empty when it can work."""
    problems = []
    oids = list(oids or ())
    discovery = job_type == "descubrimiento"
    if discovery and not any(o.espacio == "descubrimiento" for o in oids):
        problems.append("Una tarea de descubrimiento necesita un OID de espacio "
                        "«descubrimiento» (el que recorre las ONUs): agréguelo.")
    rules = []
    for oid in oids:
        try:
            rules.append(field_rule(oid, discovery=discovery))
        except InventoryConfigError as exc:
            problems.append(f"{exc}: corríjalo en OIDs o quítelo de la tarea.")
    if (job_type == "get" and not any(r.field or r.metric for r in rules)
            and len(rules) == len(oids)):
        problems.append("Una tarea de lectura necesita al menos un OID que escriba un campo "
                        "de la ONU (por ejemplo rx_power o estado) o una métrica del "
                        "historial (espacio «metrica»); los de espacio «descubrimiento» no "
                        "escriben ninguno.")
    return problems


def validate_cron(expr: str, tz: str) -> tuple[str, str]:
    """A 5-field cron expression and its IANA time zone; returns both normalised."""
    tz = validate_timezone(tz)
    return schedule_validate_cron((expr or "").strip(), tz), tz


def validate_schedule_choice(interval_raw: str | None, cron_expr: str | None) -> None:
    """A job runs either on an interval or on a cron expression: exactly one of them."""
    has_interval, has_cron = bool((interval_raw or "").strip()), bool((cron_expr or "").strip())
    if has_interval and has_cron:
        raise ValueError("Indique un intervalo o una expresión cron, no ambos.")
    if not has_interval and not has_cron:
        raise ValueError("Indique un intervalo (por ejemplo 5m) o una expresión cron.")


FORMULA_EXAMPLE = '{"base": 4194304000, "step_slot": 8192, "step_port": 256}'


def validate_formula_params(kind: str, params) -> dict:
    """JSON parameters of an index formula (text or dict) for `kind`; returns the dict with
    `kind` filled in, as facho.inventory.decoders expects it. A message about one parameter
    reads "Parámetro 'x': ..." (what the form shows under the field), others "Parámetros
    inválidos: ..."."""
    import json

    example = (json.dumps({k: v for k, v in KINDS[kind].ejemplo.items() if k != "kind"})
               if isinstance(kind, str) and kind in KINDS else FORMULA_EXAMPLE)
    if isinstance(params, str):
        try:
            params = json.loads(params.strip() or "{}")
        except ValueError:
            raise ValueError(f"Parámetros inválidos: no es JSON válido (ejemplo: "
                             f"{example}).") from None
    if not isinstance(params, dict):
        raise ValueError(f"Parámetros inválidos: deben ser un objeto JSON (ejemplo: {example}).")
    if params.get("kind", kind) != kind:
        raise ValueError(f"Parámetros inválidos: 'kind' dice {params['kind']!r} "
                         f"pero el tipo elegido es {kind!r}.")
    params = {**params, "kind": kind}
    try:
        validate_formula(params)
    except ValueError as exc:
        message = str(exc)
        if message.startswith("parámetro "):
            raise ValueError(f"P{message[1:]}.") from None
        raise ValueError(f"Parámetros inválidos: {message}.") from None
    return params
