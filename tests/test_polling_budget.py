"""The polling budget's pure rules: a profile's defaults per model, and which profile an
OLT of a brand and model takes them from."""
from facho.inventory.profiles.shipped import shipped_profiles
from facho.polling_budget import DEFAULTS, budget_of, defaults_for

SHIPPED = [s.profile for s in shipped_profiles()]


def test_a_model_override_changes_only_its_own_fields():
    presupuesto = {"max_repetitions": 10, "por_modelo": {"C300": {"getnext_only": True}}}
    assert budget_of(presupuesto, "c 300") == {**DEFAULTS, "max_repetitions": 10,
                                               "getnext_only": True}
    assert budget_of(presupuesto, "C320") == {**DEFAULTS, "max_repetitions": 10}


def test_the_zte_c300_starts_getnext_safe_and_the_c320_with_small_getbulks():
    c300, c320 = defaults_for("ZTE", "C300", SHIPPED), defaults_for("zte", "C320", SHIPPED)
    assert c300["getnext_only"] is True and c300["max_requests_per_second"] > 0
    assert c320["getnext_only"] is False and c320["max_repetitions"] < DEFAULTS["max_repetitions"]


def test_a_brand_without_a_profile_gets_the_plain_defaults():
    assert defaults_for("Desconocida", "X1", SHIPPED) == DEFAULTS


def test_every_shipped_profile_caps_the_requests_per_second():
    assert all(p.presupuesto and p.presupuesto["max_requests_per_second"] > 0 for p in SHIPPED)
