"""What the form fuzz posts: a valid base per panel form, text strategies per field, and how
to read a re-rendered form (the errors under one field)."""
from __future__ import annotations

import json
import re

from hypothesis import strategies as st

from facho import validation

# Text an operator (or a paste from a spreadsheet) can produce: any UTF-8 character, plus
# the ones that break things: NUL, other control characters, bidi overrides, zero-width,
# BOM, combining marks, astral planes, very long runs.
ODD_PIECES = ["\x00", "\x07", "\t", "\r\n", "\u200b", "\u202e", "\ufeff", "\u0301", "ñandú",
              "𝔉𝔞𝔠𝔥𝔬", "🚀", "' OR '1'='1", "<script>", "%s%n", "../", " ", "a" * 300]
odd_text = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.lists(st.one_of(st.sampled_from(ODD_PIECES), st.text(max_size=5)), max_size=6)
    .map("".join),
)


def _numberish():
    return st.one_of(st.integers(-10**12, 10**12).map(str),
                     st.sampled_from(["", " ", "1e3", "0x10", "1.5", "٣", "１６１", "-0", "+5"]),
                     odd_text)


def _interval():
    unit = st.sampled_from(["s", "m", "h", "d", "", "x", "S", " m", "min", "ms"])
    return st.one_of(st.builds(lambda n, u: f"{n}{u}", st.integers(-5, 10**7), unit), odd_text)


def _cron():
    token = st.sampled_from(["*", "*/5", "0", "59", "60", "1-5", "5-1", "MON", "jan", "abc",
                             "-1", "31", "32", "13", "?", "L", "*/0", ","])
    return st.one_of(st.lists(token, min_size=3, max_size=7).map(" ".join), odd_text)


def _timezone():
    return st.one_of(st.sampled_from(["America/Lima", "UTC", "Etc/GMT+5", "america/lima",
                                      "America/Lim", "../../etc/passwd", "Lima", "", "\x00",  # repo-path: bad input
                                      "America/Lima\x00", "EST5EDT", "localtime"]), odd_text)


def _host():
    octet = st.integers(0, 999).map(str)
    return st.one_of(st.lists(octet, min_size=1, max_size=6).map(".".join),
                     st.ip_addresses().map(str),
                     st.from_regex(r"[a-zA-Z0-9\-ñ]{1,70}(\.[a-zA-Z0-9\-]{0,70}){0,3}",
                                   fullmatch=True),
                     odd_text)


def _oid():
    part = st.one_of(st.integers(0, 2**33).map(str), st.sampled_from(["", "-1", "01", "x"]))
    return st.one_of(st.lists(part, min_size=1, max_size=12).map(".".join),
                     st.lists(part, min_size=1, max_size=12).map(lambda p: "." + ".".join(p)),
                     odd_text)


def _json_params():
    leaf = st.one_of(st.integers(-5, 2**40), st.booleans(), st.none(), st.text(max_size=5),
                     st.floats(allow_nan=False))
    keys = st.sampled_from(["kind", "base", "step_slot", "step_port", "frame", "slot_shift",
                            "positions", "onu_mask", "x"])
    doc = st.recursive(leaf, lambda inner: st.dictionaries(keys, inner, max_size=5)
                       | st.lists(inner, max_size=3), max_leaves=8)
    return st.one_of(doc.map(json.dumps), odd_text)


STRATEGIES = {
    "interval_raw": _interval(), "cron_expr": _cron(), "cron_tz": _timezone(),
    "ip_address": _host(), "oid": _oid(), "params": _json_params(),
    "snmp_port": _numberish(), "max_concurrent": _numberish(),
    "max_starts_per_minute": _numberish(), "max_retries": _numberish(),
    "retry_delay_seconds": _numberish(), "dias": _numberish(),
    "comunidad": st.one_of(odd_text, st.text(min_size=250, max_size=300)),
}


def strategy_for(field: str):
    return STRATEGIES.get(field, odd_text)


def _no_controls(text: str, allowed: str = "") -> str:
    if any((ord(c) < 32 and c not in allowed) or ord(c) == 127 for c in text):
        raise ValueError("control character stored")
    return text


# A stored value must pass the field's own rule again (what is saved was validated).
REVALIDATE = {
    "nombre": lambda v: validation.validate_name(v, "Nombre", 120),
    "abreviatura": lambda v: validation.validate_name(v, "Abreviatura", 60),
    "ip_address": validation.validate_host, "snmp_port": validation.validate_port,
    "comunidad": validation.validate_community, "oid": validation.validate_oid,
    "interval_raw": validation.validate_interval, "cron_tz": validation.validate_timezone,
    "descripcion": lambda v: _no_controls(v, "\t\r\n"),   # a text area: line breaks ok
    "modelo": _no_controls, "default_value": _no_controls,
}


def base_data(form: str, ids: dict, n: int) -> dict:
    """Valid values for every field of `form`; `n` keeps unique names unique."""
    brand, olt, oid = str(ids["brand"]), str(ids["olt"]), str(ids["oid"])
    return {
        "brands": {"nombre": f"Marca fz {n}"},
        "olts": {"abreviatura": f"OLT-FZ-{n}", "brand": brand, "modelo": "MA5800",
                 "ip_address": "10.0.0.1", "snmp_port": "161", "snmp_version": "v2c",
                 "comunidad": "public", "descripcion": "", "habilitar_olt": "y",
                 "max_concurrent": "1", "max_starts_per_minute": "60"},
        "oids": {"nombre": f"OID fz {n}", "oid": "1.3.6.1.2.1.1.1.0", "brand": brand,
                 "espacio": "serial", "formato": "text", "default_value": ""},
        "index_formulas": {"nombre": f"Fórmula fz {n}", "brand": brand, "modelo": f"M-{n}",
                           "kind": "linear", "params": json.dumps(
                               {"base": 4194304000, "step_slot": 8192, "step_port": 256})},
        "snmp_jobs": {"nombre": f"tarea fz {n}", "descripcion": "", "brand": brand,
                      "job_type": "get", "olts": olt, "oids": oid, "interval_raw": "5m",
                      "cron_expr": "", "cron_tz": "America/Lima", "enabled": "y",
                      "max_retries": "2", "retry_delay_seconds": "30"},
        "reglas": {"nombre": f"Regla fz {n}", "kind": "onu_desconectada", "scope": "todas",
                   "severity": "aviso", "min_severity": "aviso", "enabled": "y"},
        "canales": {"nombre": f"Canal fz {n}", "apprise_url": "json://127.0.0.1:9/fz",
                    "enabled": "y"},
    }[form]


def adjust_for(form: str, field: str, data: dict) -> None:
    """The job form takes an interval or a cron: fuzzing one leaves the other empty."""
    if form == "snmp_jobs" and field in ("cron_expr", "cron_tz"):
        data["interval_raw"] = ""
        data.setdefault("cron_expr", "0 2 * * *")
        if field == "cron_tz":
            data["cron_expr"] = "0 2 * * *"


_TEXT_INPUT = re.compile(
    r'<(input|textarea)\b[^>]*\bname="([^"_][^"]*)"[^>]*>', re.S)


def text_fields(html: str) -> list[str]:
    """Names of the fields an operator types into (text, number, password, textarea)."""
    names = []
    for tag, name in _TEXT_INPUT.findall(html):
        element = re.search(rf'<{tag}\b[^>]*\bname="{re.escape(name)}"[^>]*>', html).group(0)
        kind = re.search(r'\btype="([^"]+)"', element)
        if name != "csrf_token" and (tag == "textarea" or (kind and kind.group(1) in
                                                           ("text", "number", "password"))):
            names.append(name)
    return list(dict.fromkeys(names))


def errors_under(html: str, field: str) -> list[str]:
    """The messages Flask-Admin renders under `field` (its form-group)."""
    start = html.find(f'id="{field}"')
    if start < 0:
        return []
    end = html.find('<div class="form-group', start)
    block = html[start:end if end > 0 else len(html)]
    items = re.findall(r"<li>(.*?)</li>", block, re.S) or \
        re.findall(r'<div class="invalid-feedback">([^<]+)</div>', block)   # custom forms
    return [re.sub(r"<[^>]+>", "", m).strip() for m in items]


ENGLISH = ("field", "valid", "required", "must be", "Not a", "Invalid", "This ", "Error")
SPANISH = ("inválid", "no puede", "debe", "Debe", "Ingrese", "entre", "máximo", "vací",
           "Indique", "Zona", "Expresión", "Intervalo", "Parámetro", "obligatorio", "válido",
           "Ya existe", "número", "caracteres", "use ", "Use ", "OID", "campo", "puede", "no es")


def is_spanish(message: str) -> bool:
    return (not any(word in message for word in ENGLISH)
            and any(word in message for word in SPANISH))

