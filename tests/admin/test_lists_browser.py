"""admin.lists in a real browser: the OLT filter is a select2 that searches as the operator
types (no options in the page) and names the OLT of a filter already applied."""
from tests.browser import browser, live_app, live_server, log_in, page  # noqa: F401
from tests.factories import add_brand, add_olt, add_onus


def test_operator_finds_an_olt_by_typing_and_filters_its_onus(page, live_app):
    brand = add_brand(live_app)
    olts = {name: add_olt(live_app, brand, name) for name in
            ("OLT-NORTE", "OLT-SUR", "OLT-CENTRO")}
    add_onus(live_app, olts["OLT-SUR"], 2)
    add_onus(live_app, olts["OLT-NORTE"], 3, port=2)
    log_in(page)
    page.goto("/admin/onus/")
    page.click("a.dropdown-toggle:has-text('Filtro')")
    page.click(".field-filters a.filter:has-text('OLT')")
    page.click("#filter_form .select2-container a.select2-choice >> nth=-1")
    page.keyboard.type("sur")
    results = page.locator(".select2-drop-active .select2-result-label")
    results.filter(has_text="OLT-SUR").wait_for()
    assert results.all_inner_texts() == ["OLT-SUR"]
    results.first.click()
    page.click("#filter_form button[type=submit]")
    page.wait_for_url(f"**olt_igual_a={olts['OLT-SUR']}*")
    assert page.locator("table.model-list tbody tr").count() == 2
    # the applied filter shows the OLT's name, not its id
    chosen = page.locator("#filter_form .select2-container .select2-chosen").all_inner_texts()
    assert "OLT-SUR" in chosen
