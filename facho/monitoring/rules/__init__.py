"""The rule kinds, one module each. Every module has `KIND`, `NAME` (Spanish), `LEVEL`
("onu", "pon" or "olt": what its incidents are about), `TIME_BASED` (its condition can
start or clear with nothing polled: the minute sweep evaluates it), `NEEDS_MEDIANS`,
`PARAMS` (`facho.monitoring.params.Param`), `cross_check(params) -> {field: message}` and
`evaluate(inputs) -> [Finding]` (pure)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from facho.monitoring import params as param_specs
from facho.monitoring.facts import OltFact
from facho.monitoring.rules import (degradacion, olt_inalcanzable, onu_desconectada,
                                    pon_caida, pon_degradada, rx_baja)

MODULES = {module.KIND: module for module in (
    onu_desconectada, rx_baja, degradacion, olt_inalcanzable, pon_caida, pon_degradada)}
KIND_NAMES = {kind: module.NAME for kind, module in MODULES.items()}
SEVERITY_NAMES = {"aviso": "aviso", "critico": "crítico"}
SEVERITY_ORDER = {"aviso": 0, "critico": 1}


@dataclass(frozen=True)
class Inputs:
    """What one rule evaluates: the OLT, its present ONUs within the rule's scope, each
    ONU's rx median (dBm, for the degradation kinds), the rule's parameters and severity,
    now (UTC), and the keys of the rule's incidents already open on this OLT."""
    olt: OltFact
    onus: tuple
    params: dict
    severity: str
    now: datetime
    medians: dict = field(default_factory=dict)
    open_keys: frozenset = frozenset()   # keys of this rule's incidents open on the OLT


def module(kind: str):
    return MODULES[kind]


def validate_params(kind: str, raw: dict) -> tuple[dict, dict]:
    """(clean parameters, {field: Spanish message}) for a rule of `kind`."""
    specs = MODULES[kind].PARAMS
    clean, errors = param_specs.validate(specs, raw)
    if not errors:
        errors.update(MODULES[kind].cross_check(clean))
    return clean, errors


def evaluate(kind: str, inputs: Inputs) -> list:
    specs = MODULES[kind].PARAMS
    values = param_specs.with_defaults(specs, inputs.params)
    return MODULES[kind].evaluate(Inputs(inputs.olt, inputs.onus, values, inputs.severity,
                                         inputs.now, inputs.medians, inputs.open_keys))


def at_least(severity: str, minimum: str) -> bool:
    return SEVERITY_ORDER.get(severity, 0) >= SEVERITY_ORDER.get(minimum, 0)
