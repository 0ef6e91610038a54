/* Ejecuciones: while a row on this page is pending or running, fetch this same page every
   few seconds and put its rows in place of ours, so the operator watches executions finish
   without reloading. Stops as soon as the fetched page has nothing active (the server marks
   it with data-active on #facho-live-list). A round is skipped while the operator has rows
   selected or a menu open, so a selection for "🔁 Re-ejecutar" is never lost. */
(function () {
  "use strict";
  var script = document.getElementById("live-list-script");
  var every = parseInt(script && script.getAttribute("data-interval-ms"), 10) || 3000;
  var failures = 0;

  function busy() {
    return document.hidden ||
      document.querySelector("input.action-checkbox:checked, input.action-rowtoggle:checked") ||
      document.querySelector(".dropdown-menu.show");
  }

  function schedule(delay) { window.setTimeout(refresh, delay || every); }

  function refresh() {
    if (busy()) { return schedule(); }
    window.fetch(window.location.href, {credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        if (!response.ok || response.redirected) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html")
          .getElementById("facho-live-list");
        var current = document.getElementById("facho-live-list");
        if (!fresh || !current) { return; }          // logged out or another page: stop
        var freshBody = fresh.querySelector("table.model-list tbody");
        var body = current.querySelector("table.model-list tbody");
        if (freshBody && body && !busy()) { body.innerHTML = freshBody.innerHTML; }
        current.setAttribute("data-active", fresh.getAttribute("data-active"));
        failures = 0;
        document.dispatchEvent(new CustomEvent("facho:list-refreshed"));
        if (fresh.getAttribute("data-active") === "1") { schedule(); }
      })
      .catch(function () {
        failures += 1;
        if (failures < 20) { schedule(every * Math.min(failures + 1, 5)); }
      });
  }

  schedule();
})();
