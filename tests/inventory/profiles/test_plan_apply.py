"""Planning a profile against the catalog and applying it (facho.inventory.profiles.plan and
.apply): create / change / unchanged, conflicts that refuse the whole file, one transaction."""
from __future__ import annotations

import pytest

from facho.extensions import db
from facho.inventory.profiles import apply as apply_module
from facho.inventory.profiles.apply import (AUDIT_ACTION, SEED, ImportRefused, PlanChanged,
                                            apply_profile)
from facho.inventory.profiles.export import export_bytes
from facho.inventory.profiles.format import parse
from facho.inventory.profiles.plan import CHANGE, CREATE, SAME, Change, plan_import
from facho.models import AuditEvent, Brand, IndexFormula, Oid
from tests import factories
from tests.inventory.profiles.documents import (MARCA, ROOT, catalog_rows, counts, document,
                                                encoded)


def imported(doc, **kw):
    return apply_profile(parse(encoded(doc)), username="noc", **kw)


def plan_of(doc):
    return plan_import(parse(encoded(doc)))


def test_an_empty_catalog_plans_every_entry_as_created_and_the_brand_too(app_ctx):
    plan = plan_of(document())
    assert plan.ok and plan.creates_brand
    assert [(i.kind, i.action) for i in plan.items] == [("formula", CREATE)] + [("oid", CREATE)] * 3
    result = imported(document())
    assert result.marca_creada and len(result.oids_creados) == 3
    assert result.formulas_creadas == ["Prueba {pon}.{onu}"]
    rx = factories.oid("Prueba potencia RX")
    assert (rx.brand.nombre, rx.escala, rx.decimales, rx.sin_valor, rx.keep_previous_value) == \
        (MARCA, 0.01, 2, "2147483647", True)
    assert factories.oid("Prueba estado").etiquetas == {"1": "en línea", "2": "desconectada"}
    assert result.message() == ("Perfil importado: 3 OIDs creados, 0 cambiados, 1 fórmula "
                                "creada, 0 cambiadas (marca Marca Prueba, creada).")


def test_importing_twice_the_second_plan_is_all_unchanged_and_writes_nothing(app_ctx):
    imported(document())
    before = counts()
    plan = plan_of(document())
    assert plan.ok and not plan.creates_brand
    assert {i.action for i in plan.items} == {SAME}
    result = imported(document())
    assert result.written == 0 and result.sin_cambios == 4
    assert counts() == (before[0], before[1], before[2], before[3] + 1)   # only the audit row


def test_a_changed_field_is_planned_old_to_new_and_only_it_is_written(app_ctx):
    imported(document())
    factories.oid("Prueba potencia RX").default_value = None
    db.session.commit()
    doc = document()
    doc["oids"][2]["escala"] = 0.1
    doc["oids"][1]["etiquetas"] = {"1": "en línea", "2": "apagada"}
    doc["formulas"][0]["params"]["frame"] = 1
    plan = plan_of(doc)
    changed = {i.nombre: i.changes for i in plan.items if i.action == CHANGE}
    assert changed["Prueba potencia RX"] == (Change("escala", 0.01, 0.1),)
    assert changed["Prueba estado"] == (Change("etiquetas", {"1": "en línea", "2": "desconectada"},
                                               {"1": "en línea", "2": "apagada"}),)
    assert [c.field for c in changed["Prueba {pon}.{onu}"]] == ["params"]
    result = imported(doc)
    assert result.oids_cambiados == ["Prueba estado (etiquetas)", "Prueba potencia RX (escala)"]
    assert result.formulas_cambiadas == ["Prueba {pon}.{onu} (params)"]
    assert factories.oid("Prueba potencia RX").escala == 0.1
    formula = db.session.scalars(db.select(IndexFormula)).one()
    assert formula.params["frame"] == 1


def test_a_formula_matches_by_brand_and_model_so_a_new_name_renames_it(app_ctx):
    imported(document())
    doc = document()
    doc["formulas"][0]["nombre"] = "Prueba renombrada"
    plan = plan_of(doc)
    item = plan.items[0]
    assert item.action == CHANGE and item.changes == (
        Change("nombre", "Prueba {pon}.{onu}", "Prueba renombrada"),)


def test_round_trip_export_then_import_into_an_empty_catalog_recreates_identical_rows(app_ctx):
    imported(document())
    factories.seed_catalog()
    before = catalog_rows()
    files = [export_bytes(b) for b in db.session.scalars(db.select(Brand))]
    for model in (Oid, IndexFormula, Brand):
        db.session.execute(db.delete(model))
    db.session.commit()
    assert counts()[:3] == (0, 0, 0)
    for data in files:
        profile = parse(data)
        assert profile.valid, profile.problems
        apply_profile(profile, username="noc")
    assert catalog_rows() == before
    for data in files:   # and a second import finds nothing to do
        assert {i.action for i in plan_import(parse(data)).items} <= {SAME}


# --- conflicts: nothing saved -------------------------------------------------------------

def _refused(doc, expected: str):
    before = counts()
    with pytest.raises(ImportRefused) as caught:
        imported(doc)
    assert counts() == before
    assert any(expected in p for p in caught.value.plan.problems), caught.value.plan.problems
    assert str(caught.value).startswith("No se importó nada")
    return caught.value.plan


def test_an_oid_name_owned_by_another_brand_refuses_the_whole_file(app_ctx):
    other = factories.brand("Huawei")
    db.session.add(Oid(nombre="Prueba estado", oid="1.3.6.1.4.1.2011.1", brand=other,
                       espacio="estado"))
    db.session.commit()
    plan = _refused(document(), "oids[1].nombre: ya existe un OID «Prueba estado» de la marca "
                                "Huawei")
    assert [i.path for i in plan.with_problems] == ["oids[1]"]


def test_an_oid_name_of_every_brand_is_a_conflict_too(app_ctx):
    db.session.add(Oid(nombre="Prueba serie", oid="1.3.6.1.2.1.1.1", espacio="descripcion"))
    db.session.commit()
    _refused(document(), "todas las marcas")


def test_the_same_oid_and_space_under_the_brand_with_another_name_is_a_conflict(app_ctx):
    db.session.add(Oid(nombre="Serie del NOC", oid=f"{ROOT}.1", brand=factories.brand(MARCA),
                       espacio="descubrimiento", formato="gpon_serial"))
    db.session.commit()
    _refused(document(), f"oids[0].oid: la marca {MARCA} ya tiene el OID {ROOT}.1 con "
                         "espacio descubrimiento con otro nombre («Serie del NOC»)")


def test_a_formula_name_used_by_another_brand_is_a_conflict(app_ctx):
    db.session.add(IndexFormula(nombre="Prueba {pon}.{onu}", brand=factories.brand("ZTE"),
                                modelo="C320", kind="dotted",
                                params={"kind": "dotted", "positions": {"slot": 0, "port": 1,
                                                                        "onu": 2}}))
    db.session.commit()
    _refused(document(), "formulas[0].nombre: ya existe una fórmula «Prueba {pon}.{onu}» de la "
                         "marca ZTE para el modelo «C320»")


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["oids"][2].update(regex="(["), "oids[2].regex: la expresión regular"),
    (lambda d: d["oids"][1].update(etiquetas="en línea"), "oids[1].etiquetas: debe ser un objeto"),
    (lambda d: d["formulas"][0].update(params={"kind": "linear", "base": 1}),
     "formulas[0].params: "),
    (lambda d: d["oids"].append(dict(d["oids"][0], oid=f"{ROOT}.7")),
     "oids[3].nombre: otro OID del archivo (oids[0])"),
])
def test_a_file_with_a_bad_entry_saves_nothing(app_ctx, change, expected):
    doc = document()
    change(doc)
    _refused(doc, expected)


def test_apply_is_atomic_a_failure_midway_leaves_nothing(app_ctx, monkeypatch):
    written = []
    real = apply_module.write_oid

    def failing(item, brand, session):
        if len(written) == 2:
            raise RuntimeError("disco lleno")
        written.append(item.nombre)
        real(item, brand, session)

    monkeypatch.setattr(apply_module, "write_oid", failing)
    with pytest.raises(RuntimeError):
        imported(document())
    assert written == ["Prueba serie", "Prueba estado"]
    assert counts() == (0, 0, 0, 0)


def test_an_audit_failure_rolls_back_the_rows_as_well(app_ctx, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("audit down")
    monkeypatch.setattr(apply_module.audit, "record", broken)
    with pytest.raises(RuntimeError):
        imported(document())
    assert counts() == (0, 0, 0, 0)


def test_a_plan_that_changed_since_the_preview_is_refused(app_ctx):
    preview = plan_of(document())
    db.session.add(Brand(nombre=MARCA))      # someone else, meanwhile
    db.session.commit()
    before = counts()
    with pytest.raises(PlanChanged, match="el catálogo cambió desde la vista previa"):
        imported(document(), expected_digest=preview.digest)
    assert counts() == before
    assert imported(document(), expected_digest=plan_of(document()).digest).written == 4


def test_the_import_is_audited_with_who_and_what(app_ctx):
    imported(document())
    event = db.session.scalars(db.select(AuditEvent)).one()
    assert (event.username, event.action, event.count) == ("noc", AUDIT_ACTION, 4)
    assert event.target == f"{MARCA}: Marca Prueba X1 (GPON)"
    assert "OIDs creados: Prueba serie, Prueba estado, Prueba potencia RX" in event.detail
    assert f"marca creada: {MARCA}" in event.detail


# --- seed mode ----------------------------------------------------------------------------

def test_seed_mode_only_creates_what_is_missing_and_keeps_operators_edits(app_ctx):
    imported(document())
    rx = factories.oid("Prueba potencia RX")
    rx.escala = 0.5                                          # an operator's edit
    db.session.delete(factories.oid("Prueba serie"))
    db.session.commit()
    result = apply_profile(parse(encoded(document())), mode=SEED, commit=False)
    db.session.commit()
    assert result.oids_creados == ["Prueba serie"] and result.oids_cambiados == []
    assert "Prueba potencia RX" in result.omitidos
    assert factories.oid("Prueba potencia RX").escala == 0.5
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)) == 1


def test_seed_mode_skips_entries_that_clash_with_operators_rows(app_ctx):
    db.session.add(Oid(nombre="Prueba estado", oid="1.3.6.1.4.1.2011.1",
                       brand=factories.brand("Huawei"), espacio="estado"))
    db.session.commit()
    result = apply_profile(parse(encoded(document())), mode=SEED, commit=False)
    db.session.commit()
    assert result.omitidos == ["Prueba estado"] and len(result.oids_creados) == 2
    assert factories.oid("Prueba estado").brand.nombre == "Huawei"
