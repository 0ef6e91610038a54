// "Probar": send the form being edited (with its CSRF token) plus the chosen OLT and rows
// to the probe endpoint, and show the preview fragment under the form. Nothing is saved.
(function () {
  const button = document.getElementById("probar-boton");
  if (!button) return;
  const output = document.getElementById("probar-salida");
  const waiting = document.getElementById("probar-esperando");
  button.addEventListener("click", async function () {
    const form = document.querySelector("form.admin-form") || document.querySelector("form[method=POST]");
    const data = new FormData(form);
    data.set("probar_olt", document.getElementById("probar_olt").value);
    data.set("probar_filas", document.getElementById("probar_filas").value);
    button.disabled = true;
    waiting.classList.remove("d-none");
    try {
      const response = await fetch(button.dataset.url, {method: "POST", body: data,
                                                        credentials: "same-origin"});
      const text = await response.text();
      if (response.ok) {
        output.innerHTML = text;
      } else {
        output.innerHTML = '<div class="alert alert-danger mt-3" id="probar-error">' +
          "No se pudo probar (respuesta " + response.status + "): recargue la página e intente de nuevo.</div>";
      }
    } catch (error) {
      output.innerHTML = '<div class="alert alert-danger mt-3" id="probar-error">' +
        "No se pudo contactar al servidor para probar.</div>";
    } finally {
      button.disabled = false;
      waiting.classList.add("d-none");
    }
  });
})();
