"""Rule ``etiquetas``: a raw value -> label map for states, and the maps Facho ships.

``etiquetas`` is a JSON object whose keys are the raw values as text: ``{"1": "en línea",
"2": "desconectada"}``. A value missing from the map is stored as its own text (``"7"``) and
reported as "sin etiqueta", so the operator sees a state the map does not know yet.

``STATE_LABELS`` holds the Spanish maps for the state OIDs of the vendors Facho knows, by
scheme name; vendor profiles and the seed copy them into ``Oid.etiquetas``.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from facho.inventory.values import text as as_text

FORMAT_ERROR = ('etiquetas debe ser un objeto JSON de valor → texto, por ejemplo '
                '{"1": "en línea"}')
MAX_LABEL = 80

_DYING_GASP = "dying gasp (sin energía)"
_ZTE_C300_PHASE = {          # zxAnGponOnuPhaseState, 0-based (C300/C320 firmware 1.x/2.0)
    "0": "registrando", "1": "LOS", "2": "sincronizando MIB", "3": "en línea",
    "4": _DYING_GASP, "5": "autenticación fallida", "6": "desconectada",
}

STATE_LABELS: dict[str, dict[str, str]] = {
    # Huawei MA5600T/MA5800 hwGponDeviceOntControlRunStatus
    "huawei_run_status": {"1": "en línea", "2": "desconectada", "-1": "inválido"},
    # Huawei hwGponDeviceOntControlLastDownCause
    "huawei_down_cause": {
        "1": "LOS", "2": "LOSi/LOBi", "3": "LOFi", "4": "SFi", "5": "LOAi", "6": "LOAMi",
        "7": "desactivación fallida", "8": "desactivada", "9": "reinicio",
        "10": "re-registro", "11": "fallo de pop-up", "13": _DYING_GASP, "15": "LOKi",
        "18": "desactivada por anillo", "30": "módulo óptico apagado",
        "31": "reinicio por comando", "32": "reinicio por botón",
        "33": "reinicio por software", "34": "desactivada por ataque broadcast",
        "35": "falla de verificación del operador", "37": "ONU rogue detectada",
        "-1": "consulta fallida",
    },
    # ZTE C300/C320 (legacy MIB) phase state, 0-based
    "zte_c300_phase_state": dict(_ZTE_C300_PHASE),
    # ZTE C300/C320 V2 MIB and C600 phase state, 1-based
    "zte_c600_phase_state": {
        "1": "registrando", "2": "LOS", "3": "sincronizando MIB", "4": "en línea",
        "5": _DYING_GASP, "6": "autenticación fallida", "7": "desconectada",
    },
    # ZTE last offline reason
    "zte_offline_reason": {
        "1": "desconocida", "2": "LOS", "3": "LOSi", "4": "LOFi", "5": "SFi", "6": "LOAi",
        "7": "LOAMi", "8": "autenticación fallida", "9": _DYING_GASP, "10": "desactivada",
        "11": "desactivación fallida", "12": "reinicio", "13": "apagada",
    },
    # FiberHome AN5516 onuStatus
    "fiberhome_onu_status": {
        "0": "LOS (corte de fibra)", "1": "en línea", "2": _DYING_GASP, "3": "desconectada",
    },
    # V-SOL V1600G (GPON) phase state: ZTE's 0-based scheme plus 7 and 8
    "vsol_v1600g_phase_state": {
        **_ZTE_C300_PHASE, "7": "desactivada", "8": "configuración fallida",
    },
    # V-SOL V1600D (EPON) line status and deregister reason
    "vsol_v1600d_line_status": {"0": "desconectada", "1": "en línea"},
    "vsol_v1600d_deregister_reason": {"0": "LOS (corte de fibra)", "1": _DYING_GASP},
    # C-Data FD15xx GPON / FD11xx EPON ONU operation status
    "cdata_gpon_status": {"1": "en línea", "2": "desconectada"},
    "cdata_epon_status": {"1": "en línea", "2": "desconectada"},
}


def parse(value: Any) -> dict[str, str] | None:
    """``etiquetas`` as stored (a dict) or typed (JSON text); None, ``""`` or ``{}`` -> None.
    ValueError (Spanish) when it is not an object of text -> text."""
    if value is None:
        return None
    if isinstance(value, (str, bytes, bytearray)):
        source = as_text(value)
        if source is None:
            return None
        try:
            value = json.loads(source)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{FORMAT_ERROR} (no es JSON válido: error cerca de la "
                             f"posición {exc.pos})") from None
    if not isinstance(value, Mapping):
        raise ValueError(FORMAT_ERROR)
    labels: dict[str, str] = {}
    for key, label in value.items():
        if isinstance(key, bool) or not isinstance(key, (str, int)) or not isinstance(label, str):
            raise ValueError(FORMAT_ERROR)
        key, label = str(key).strip(), label.strip()
        if not key or not label:
            raise ValueError(f"{FORMAT_ERROR}; ni el valor ni el texto pueden quedar vacíos")
        if len(label) > MAX_LABEL:
            raise ValueError(f"etiquetas: el texto de «{key}» es demasiado largo "
                             f"({len(label)} caracteres; máximo {MAX_LABEL})")
        labels[key] = label
    return labels or None


def key_of(value: Any) -> str | None:
    """The text a value is looked up by: ``1`` and ``1.0`` -> ``"1"``, bytes decoded."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (bytes, bytearray)):
        return as_text(value)
    return str(value).strip()


def _numeric_key(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def label(value: Any, etiquetas: Mapping[str, str]) -> tuple[str | None, bool]:
    """(label, found). A value the map lacks comes back as its own text with found False.
    Keys match as text, else numerically (``"01"`` finds ``"1"``)."""
    key = key_of(value)
    if key is None:
        return None, True
    if key in etiquetas:
        return etiquetas[key], True
    number = _numeric_key(key)
    if number is not None:
        for candidate, text in etiquetas.items():
            if _numeric_key(candidate) == number:
                return text, True
    return key, False
