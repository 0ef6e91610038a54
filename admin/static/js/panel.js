/* Every panel page. A bulk action ("🚀 Ejecutar tareas seleccionadas", "🔁 Re-ejecutar"…)
   is sent once: a second click while the first request is on its way does nothing, not
   even a second confirmation. The server refuses duplicates anyway (DESIGN 6); this only
   spares the operator a confusing second answer. */
(function ($) {
  "use strict";
  if (!$) { return; }
  $(function () {
    var form = $("#action_form");
    if (!form.length) { return; }
    var sent = false;
    form.on("submit", function (event) {
      if (sent) { event.preventDefault(); return false; }
      sent = true;
      return true;
    });
    if (window.modelActions && typeof window.modelActions.execute === "function") {
      var execute = window.modelActions.execute;
      window.modelActions.execute = function (name) {
        return sent ? false : execute.call(window.modelActions, name);
      };
    }
    // Back/forward cache: the page shown again may send a new action.
    window.addEventListener("pageshow", function (event) { if (event.persisted) { sent = false; } });
  });
})(window.jQuery);
