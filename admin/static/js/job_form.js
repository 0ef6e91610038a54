// Job form: grey out the OLTs and OIDs that do not belong to the chosen brand, and drop
// them from the selection. A convenience only: the server checks the same rule on submit.
(function ($) {
  var map = JSON.parse(document.getElementById('job-brand-map').textContent);
  var lists = [
    {id: 'olts', owners: map.olts, anyBrandFits: false},
    {id: 'oids', owners: map.oids, anyBrandFits: true}   // an OID without a brand fits all
  ];

  function fits(owner, brand, anyBrandFits) {
    if (!brand || brand === '__None') return true;      // no brand chosen yet: offer all
    if (owner === null || owner === undefined) return anyBrandFits;
    return String(owner) === brand;
  }

  function apply() {
    var brand = $('#brand').val();
    lists.forEach(function (list) {
      var select = document.getElementById(list.id);
      if (!select) return;
      var keep = [];
      Array.prototype.forEach.call(select.options, function (option) {
        var ok = fits(list.owners[option.value], brand, list.anyBrandFits);
        option.disabled = !ok;
        if (!ok) option.selected = false;
        if (option.selected) keep.push(option.value);
      });
      if ($(select).data('select2')) $(select).select2('val', keep);
    });
  }

  $(function () {      // after Flask-Admin's form.js has turned the selects into select2
    $('#brand').on('change', apply);
    apply();
  });
})(jQuery);
