"""Exporting a brand's profile (facho.inventory.profiles.export): the format's key order, the
same bytes every time, and nothing of the OLTs."""
from __future__ import annotations

import json

from facho.extensions import db
from facho.inventory.profiles.export import export_bytes, export_profile, file_name
from facho.inventory.profiles.format import OID_KEYS, TOP_KEYS, parse
from facho.models import Oid
from tests import factories
from tests.inventory.profiles.documents import MARCA, document, encoded
from facho.inventory.profiles.apply import apply_profile


def test_an_export_has_the_format_keys_in_order_and_reads_back_valid(app_ctx):
    apply_profile(parse(encoded(document())), username="noc")
    brand = factories.brand(MARCA)
    doc = json.loads(export_bytes(brand))
    assert tuple(doc) == TOP_KEYS
    assert doc["facho_perfil"] == 1 and doc["marca"] == MARCA
    assert [tuple(o) for o in doc["oids"]] == [OID_KEYS] * 3
    assert [o["nombre"] for o in doc["oids"]] == ["Prueba estado", "Prueba potencia RX",
                                                  "Prueba serie"]
    assert doc["formulas"] == [{"nombre": "Prueba {pon}.{onu}", "modelo": "",
                                "params": {"kind": "dotted",
                                           "positions": {"port": 0, "onu": 1}}}]
    assert parse(export_bytes(brand)).valid
    assert export_bytes(brand) == export_bytes(brand)


def test_an_export_never_carries_an_olt_its_address_or_its_secrets(app_ctx):
    apply_profile(parse(encoded(document())), username="noc")
    factories.olt("OLT-SECRETA", marca=MARCA, ip="10.9.8.7", comunidad=factories.COMMUNITY,
                  snmp_version="v3", v3_usuario="usuario-v3-xyz", v3_auth_proto="sha1",
                  v3_auth_clave="clave-auth-v3-xyz", v3_priv_proto="aes",
                  v3_priv_clave="clave-priv-v3-xyz", modelo="X1-SECRETO")
    db.session.commit()
    data = export_bytes(factories.brand(MARCA)).decode()
    for secret in ("OLT-SECRETA", "10.9.8.7", factories.COMMUNITY, "usuario-v3-xyz",
                   "clave-auth-v3-xyz", "clave-priv-v3-xyz", "X1-SECRETO", "comunidad"):
        assert secret not in data


def test_oids_without_a_brand_or_of_another_brand_stay_out(app_ctx):
    apply_profile(parse(encoded(document())), username="noc")
    db.session.add(Oid(nombre="sysDescr", oid="1.3.6.1.2.1.1.1", espacio="descripcion"))
    db.session.add(Oid(nombre="Huawei algo", oid="1.3.6.1.4.1.2011.1",
                       brand=factories.brand("Huawei"), espacio="descripcion"))
    db.session.commit()
    names = [o["nombre"] for o in export_profile(factories.brand(MARCA))["oids"]]
    assert "sysDescr" not in names and "Huawei algo" not in names


def test_the_file_name_is_the_brand_as_a_plain_slug():
    assert file_name("Huawei") == "huawei.facho.json"
    assert file_name("V-SOL") == "v-sol.facho.json"
    assert file_name("Fibra Ñandú / Perú") == "fibra-nandu-peru.facho.json"
    assert file_name("株式会社") == "marca.facho.json"
