/* Searchable filters (admin/lists.py, AjaxEqualFilter): the page lists no options for "OLT
   igual a" (2,000 OLTs would be 150 kB on every page); select2 asks the view's ajax lookup
   as the operator types, 20 at a time. #facho-ajax-filters says, per filter argument, where
   to ask and the names of the values already applied. Flask-Admin's filters.js builds the
   inputs (a plain text input for these): the active ones before this script runs, new ones
   when "Filtro" is used, through faForm.applyStyle, which is wrapped here. */
(function ($) {
  "use strict";
  var data = document.getElementById("facho-ajax-filters");
  if (!data || !window.faForm) { return; }
  var refs = JSON.parse(data.textContent);
  var TYPE = "facho-ajax";
  var PAGE = 20;

  function refOf($el) {
    return refs[($el.attr("name") || "").replace(/^flt\d+_/, "")];
  }

  function searchable($el) {
    var ref = refOf($el);
    if (!ref || $el.data("select2")) { return false; }
    $el.select2({
      width: "16em",
      placeholder: "Escriba para buscar…",
      minimumInputLength: 0,
      formatNoMatches: function () { return "Sin resultados"; },
      formatSearching: function () { return "Buscando…"; },
      formatLoadMore: function () { return "Cargando más…"; },
      formatAjaxError: function () { return "No se pudo cargar la lista"; },
      ajax: {
        url: ref.url,
        dataType: "json",
        quietMillis: 250,
        data: function (term, page) {
          return {query: term, offset: (page - 1) * PAGE, limit: PAGE};
        },
        results: function (rows) {
          return {results: $.map(rows, function (row) { return {id: row[0], text: row[1]}; }),
                  more: rows.length === PAGE};
        }
      },
      initSelection: function (element, callback) {
        var value = $(element).val();
        if (value) { callback({id: value, text: ref.labels[value] || ("#" + value)}); }
      }
    });
    return true;
  }

  var applyStyle = window.faForm.applyStyle;
  window.faForm.applyStyle = function ($el, name) {
    if (name === TYPE) { return searchable($el); }
    return applyStyle.apply(this, arguments);
  };
  $(".filter-val").each(function () { searchable($(this)); });
})(jQuery);
