"""The profiles Facho ships (facho/inventory/profiles/shipped/*.json): every file in the
folder parses, validates and imports into an empty catalog, and `flask facho seed` loads them
all. The Huawei and ZTE C300/C320 files are also checked against what they promise."""
from __future__ import annotations

import json
import pytest

from facho.extensions import db
from facho.inventory.decoders import SCHEMES, decode_index
from facho.inventory.profiles.apply import apply_profile
from facho.inventory.profiles.format import full_oid_values, parse
from facho.inventory.profiles.plan import CREATE, SAME, plan_import
from facho.inventory.profiles.shipped import (SHIPPED_DIR, shipped_bytes, shipped_paths,
                                              shipped_profiles)
from facho.inventory.seed import seed
from facho.inventory.value_rules import STATE_LABELS, ValueRule
from facho.inventory.values import dbm_huawei
from facho.models import IndexFormula, Oid
from tests.inventory.profiles.documents import catalog_rows, counts

PATHS = shipped_paths()
RECORDINGS = SHIPPED_DIR.parents[3] / "tests" / "data" / "snmprec"


def test_the_folder_holds_at_least_the_huawei_and_zte_profiles():
    assert {"huawei-ma5600t-ma5800", "zte-c300-c320"} <= {p.stem for p in PATHS}


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_a_shipped_profile_parses_validates_and_imports_into_an_empty_catalog(app_ctx, path):
    profile = parse(path.read_bytes())
    assert profile.valid, profile.problems
    assert profile.nombre and profile.modelos and profile.fuentes and profile.formulas
    plan = plan_import(profile)
    assert plan.ok and {i.action for i in plan.items} == {CREATE}
    result = apply_profile(profile, username="noc")
    assert len(result.oids_creados) == len(profile.oids)
    assert len(result.formulas_creadas) == len(profile.formulas)
    for entry in profile.oids:
        row = db.session.scalars(db.select(Oid).filter_by(nombre=entry.nombre)).one()
        assert {k: getattr(row, k) for k in entry.values} | {"nombre": row.nombre} == \
            full_oid_values(entry)
        assert row.brand.nombre == profile.marca
    assert {i.action for i in plan_import(profile).items} == {SAME}


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_every_shipped_value_rule_builds(path):
    for entry in parse(path.read_bytes()).oids:
        ValueRule.from_dict(entry.values)


def test_shipped_profiles_are_listed_by_file_name_and_only_those_can_be_opened():
    listed = shipped_profiles()
    assert [s.slug for s in listed] == [p.stem for p in PATHS]
    assert all(s.profile is not None and s.error is None for s in listed)
    assert shipped_bytes("zte-c300-c320") == (SHIPPED_DIR / "zte-c300-c320.json").read_bytes()
    for bad in ("../format", "zte-c300-c320.json", "", "/etc/passwd"):
        with pytest.raises(KeyError):
            shipped_bytes(bad)


def test_seed_loads_every_shipped_profile_once_and_keeps_operators_edits(app_ctx):
    first = seed()
    db.session.commit()
    profiles = [parse(p.read_bytes()) for p in PATHS]
    # files of one brand may share a formula (V-SOL GPON and EPON): it is created once
    assert first["oids"] == len({o.nombre for p in profiles for o in p.oids})
    assert first["formulas"] == len({(p.marca, f.values["modelo"]) for p in profiles
                                     for f in p.formulas})
    snapshot = catalog_rows()
    rx = db.session.scalars(db.select(Oid).filter_by(nombre="Huawei ONT potencia RX")).one()
    rx.decimales = 1                               # an operator's edit
    db.session.commit()
    assert seed() == {"marcas": 0, "oids": 0, "formulas": 0}
    db.session.commit()
    assert rx.decimales == 1
    snapshot["oids"]["Huawei ONT potencia RX"]["decimales"] = 1
    assert catalog_rows() == snapshot
    assert counts()[3] == 0                       # seeding is not an audited import


def test_seed_beside_an_operators_own_formula_for_the_brand_keeps_it(app_ctx):
    from tests import factories
    db.session.add(IndexFormula(nombre="Huawei del NOC", brand=factories.brand("Huawei"),
                                modelo="", kind="linear",
                                params={"kind": "linear", "base": 0, "step_slot": 1,
                                        "step_port": 1}))
    db.session.commit()
    seed()
    db.session.commit()
    huawei = db.session.scalars(db.select(IndexFormula).filter_by(
        brand_id=factories.brand("Huawei").id)).all()
    assert [f.nombre for f in huawei] == ["Huawei del NOC"]


# --- what the Huawei and ZTE C300/C320 files promise ------------------------------------

def _oids(slug):
    return {e.nombre: full_oid_values(e) for e in parse(shipped_bytes(slug)).oids}


def _formula(slug):
    return parse(shipped_bytes(slug)).formulas[0].values["params"]


def test_huawei_reads_the_last_down_cause_that_state_events_carry():
    cause = _oids("huawei-ma5600t-ma5800")["Huawei ONT causa de caída"]
    assert (cause["oid"], cause["espacio"]) == ("1.3.6.1.4.1.2011.6.128.1.1.2.46.1.24",
                                                "causa_caida")
    rule = ValueRule.from_dict(cause)
    assert rule.apply(1).value == "LOS"
    assert rule.apply(13).value == "dying gasp (sin energía)"


def test_huawei_reads_state_through_spanish_labels_and_power_with_a_scale():
    oids = _oids("huawei-ma5600t-ma5800")
    estado = oids["Huawei ONT estado"]
    assert (estado["oid"], estado["formato"]) == ("1.3.6.1.4.1.2011.6.128.1.1.2.46.1.15", "int")
    assert estado["etiquetas"] == STATE_LABELS["huawei_run_status"]
    rule = ValueRule.from_dict(estado)
    assert rule.apply(1).value == "en línea" and rule.apply(2).value == "desconectada"
    for name, oid in (("Huawei ONT potencia RX", "51.1.4"), ("Huawei ONT potencia TX", "51.1.3")):
        power = oids[name]
        assert power["oid"].endswith(oid) and power["formato"] == "int"
        assert (power["escala"], power["decimales"]) == (0.01, 2)
        rule = ValueRule.from_dict(power)
        for raw in (-2153, -1, 0, 250, -4000, 2147483647, -2147483648):
            outcome = rule.apply(raw)
            assert outcome.value == dbm_huawei(raw), raw
    assert oids["Huawei ONT distancia"]["formato"] == "distance_km"
    assert ValueRule.from_dict(oids["Huawei ONT distancia"]).apply(-1).value is None
    assert not any(o["formato"] == "status_huawei" for o in oids.values())
    assert _formula("huawei-ma5600t-ma5800") == SCHEMES["huawei_gpon"]


def test_zte_c300_c320_discovers_on_the_serial_and_the_ranging_table():
    """The serial table lists every configured ONU (offline ones too); the ranging table
    only those that ranged, but it is what the real C320 recording has: a job with both
    finds the union, so an OLT whose serial table cannot be read is still discovered."""
    oids = _oids("zte-c300-c320")
    by_serial = oids["ZTE ONU descubrimiento"]
    assert by_serial["oid"] == "1.3.6.1.4.1.3902.1012.3.28.1.1.5"
    assert (by_serial["espacio"], by_serial["formato"]) == ("descubrimiento", "gpon_serial")
    discovery = oids["ZTE ONU descubrimiento (distancia)"]
    assert discovery["oid"] == "1.3.6.1.4.1.3902.1012.3.11.4.1.2"
    assert (discovery["espacio"], discovery["formato"]) == ("descubrimiento", "distance_km")
    assert oids["ZTE ONU serial"]["oid"] == "1.3.6.1.4.1.3902.1012.3.28.1.1.5"
    assert oids["ZTE ONU serial"]["espacio"] == "serial"
    assert oids["ZTE ONU estado"]["etiquetas"] == STATE_LABELS["zte_c300_phase_state"]
    assert oids["ZTE ONU potencia RX"]["formato"] == "dbm_zte"
    assert ValueRule.from_dict(oids["ZTE ONU potencia RX"]).apply(65535).value is None
    params = _formula("zte-c300-c320")
    assert params == SCHEMES["zte_c300_c320"]

    lines = (RECORDINGS / "zxa10_c320.snmprec").read_text(errors="replace").splitlines()
    column = discovery["oid"] + "."
    rows = [line.split("|") for line in lines if line.startswith(column)]
    assert len(rows) == 125
    assert not any(line.startswith(oids["ZTE ONU serial"]["oid"] + ".") for line in lines)
    rule = ValueRule.from_dict(discovery)
    for oid, _, value in rows:
        decoded = decode_index(oid[len(column):], params)
        assert decoded.frame == 1 and decoded.slot == 1
        assert 0 <= rule.apply(int(value)).value < 60   # km


def test_every_shipped_formula_is_a_vendor_scheme_the_decoders_test_with_worked_examples():
    """Profiles and `decoders.SCHEMES` state the same schemes twice: this keeps them equal
    (the schemes' worked examples are in tests/inventory/decoders/test_schemes.py)."""
    def normal(params):
        return {"frame": 0, **params}

    known = [normal(p) for p in SCHEMES.values()]
    for path in shipped_paths():
        for formula in json.loads(path.read_text(encoding="utf-8"))["formulas"]:
            assert normal(formula["params"]) in known, (path.name, formula["nombre"])
