"""Value rules per OID: what operators configure in the panel (or a vendor profile) to turn
a raw SNMP value into what the inventory stores, without Python.

One module per rule kind (``regex``, ``no_value`` for ``sin_valor``, ``units``, ``scale``,
``labels`` with the shipped Spanish state maps); ``pipeline`` chains them in a fixed order
(documented there, and in ``ORDEN`` for the panel). All pure functions.

    rule = ValueRule.from_oid(oid)          # RuleError (ValueError) if it cannot work
    outcome = rule.apply(raw)               # Outcome(value, state, reason, matched)
    errors = validate_rule(form_fields)     # {"escala": "escala no puede ser 0: ..."}
"""
from __future__ import annotations

from facho.inventory.value_rules.labels import STATE_LABELS
from facho.inventory.value_rules.pipeline import (INVALID, MISSING, RULE_FIELDS, SIN_ETIQUETA,
                                                  VALUE, Outcome, RuleError, ValueRule,
                                                  validate_rule)

__all__ = ["AYUDA", "INVALID", "MISSING", "ORDEN", "RULE_FIELDS", "SIN_ETIQUETA", "STATE_LABELS",
           "VALUE", "Outcome", "RuleError", "ValueRule", "validate_rule"]

# How the steps chain, for the panel's help (same order as facho.inventory.value_rules.pipeline).
ORDEN = ("Orden en que se aplican las reglas: valor crudo → expresión regular (sobre el texto) "
         "→ sin valor → formato → unidad → escala y desplazamiento → decimales → etiquetas. "
         "Las que estén vacías no se aplican.")

# Help shown under each rule field of the OID form, with an example each.
AYUDA: dict[str, str] = {
    "formato": (
        "Cómo se lee el valor crudo: text (texto), int (entero), numero (número con punto o "
        "coma decimal), gpon_serial, mac, dbm_huawei (centésimas de dBm), dbm_zte "
        "(crudo × 0,002 − 30), distance_km (metros → km), status_huawei. "
        "Ejemplo: numero lee «-14,61» como -14.61."),
    "regex": (
        "Expresión regular que toma el valor de un texto: el grupo 1 si tiene uno, si no todo "
        "lo encontrado. Se aplica primero; si no encuentra nada, el valor se rechaza como "
        "inválido. Ejemplo: \\(([-\\d.]+) dBm\\) toma -14.61 de «0.03 mW (-14.61 dBm)»."),
    "sin_valor": (
        "Valores crudos que significan «sin dato», separados por comas: se guardan vacíos, "
        "nunca como 0. Se comparan después de la expresión regular y antes de convertir; como "
        "números si ambos lo son (-40 = -40.00), si no como texto. "
        "Ejemplo: 0, -40, 65535, 2147483647."),
    "unidad": (
        "Unidad en que el equipo da la potencia, convertida a dBm: mw (10·log10(mW)), uw "
        "(10·log10(µW) − 30), decimas_uw (décimas de µW: 10·log10(crudo) − 40). Vacía = sin "
        "conversión. Requiere el formato numero o int; una potencia de 0 o menos se rechaza. "
        "Ejemplo: decimas_uw convierte 50 (C-Data FD11xx) en -23.01 dBm."),
    "escala": (
        "Multiplica el valor, después de la unidad: valor × escala + desplazamiento. Vacía = "
        "no escala; no puede ser 0. Ejemplo: 0.01 convierte -2153 (centésimas de dBm de "
        "Huawei) en -21.53."),
    "desplazamiento": (
        "Se suma después de la escala: valor × escala + desplazamiento. Vacío = no suma. "
        "Ejemplo: escala 0.002 y desplazamiento -30 convierten 5500 (ZTE) en -19 dBm."),
    "decimales": (
        "Redondea el resultado a esa cantidad de decimales (0 a 6). Vacío = sin redondeo. "
        "Ejemplo: 2 deja -15.2288 en -15.23."),
    "etiquetas": (
        "Texto para cada valor de un estado, como objeto JSON valor crudo → texto. Un valor "
        "que no esté en el mapa se guarda tal cual y se cuenta como «sin etiqueta». "
        "Ejemplo: {\"1\": \"en línea\", \"2\": \"desconectada\"}."),
}
