/* The ONU list (admin/inventory.py): "Eliminar seleccionadas" asks with the number of
   ONUs selected ("¿Eliminar 3 ONUs seleccionadas…?") instead of Flask-Admin's fixed text.
   Without this script it still asks, in Flask-Admin's words (the action's confirmation). */
(function ($) {
  "use strict";
  if (!$) { return; }

  var texts = $("#onu-delete-confirmation");
  var actions = window.modelActions;
  if (texts.length && actions && typeof actions.execute === "function") {
    var execute = actions.execute;
    actions.execute = function (name) {
      var selected = $("input.action-checkbox:checked");
      if (name !== "eliminar" || selected.length === 0) {
        return execute.call(actions, name);   // other actions; "select something first"
      }
      var n = selected.length;
      var message = n === 1 ? texts.attr("data-one")
                            : texts.attr("data-many").replace("{n}", String(n));
      if (!window.confirm(message)) { return false; }
      // what Flask-Admin's actions.js does after its own dialog
      var form = $("#action_form");
      $("#action", form).val(name);
      $("input.action-checkbox", form).remove();
      selected.each(function () { form.append($(this).clone()); });
      form.submit();
      return false;
    };
  }
})(window.jQuery);
