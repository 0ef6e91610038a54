"""An operator creates an API token in the panel in a real browser (chromium), sees it once,
and uses it; the API's docs page renders with every request kept on 127.0.0.1."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser import browser, live_app, live_server, log_in, page  # noqa: F401


def test_a_token_is_created_from_the_menu_shown_once_and_works(page, live_server):  # noqa: F811
    log_in(page)
    page.click("text=Administración")
    page.click("a:has-text('Tokens de API')")
    page.wait_for_url("**/admin/api_tokens/")
    page.click("a:has-text('Crear')")
    page.fill("#nombre", "Grafana NOC")
    page.check("input[name=alcances][value=ejecutar]")
    page.click("button:has-text('Crear token')")
    shown = page.locator("#new-token")
    expect(shown).to_be_visible()
    expect(page.locator("text=no se volverá a mostrar")).to_be_visible()
    secret = shown.input_value()
    assert secret.startswith("facho_")

    answer = page.request.get(f"{live_server}/api/v1/tareas",
                              headers={"Authorization": f"Bearer {secret}"})
    assert answer.status == 200 and answer.json() == {"items": []}

    page.click("#back-to-tokens")
    page.wait_for_url("**/admin/api_tokens/")
    expect(page.locator("td:has-text('Grafana NOC')")).to_be_visible()
    expect(page.locator("td:has-text('lectura ejecutar')")).to_be_visible()
    assert secret not in page.content()
    # the panel session does not open the API from the same browser
    assert page.request.get(f"{live_server}/api/v1/tareas").status == 401


def test_the_docs_page_renders_without_leaving_the_machine(page, live_server):  # noqa: F811
    outside = []

    def only_local(route):
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Facho API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert outside == []
