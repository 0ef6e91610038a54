/* The home page's charts, drawn with the vendored Chart.js from the JSON the server
   embeds in #dashboard-data (no request of its own, no external asset). */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  // The badge colours of the executions list (Bootstrap 4).
  var COLORS = {PENDING: "#6c757d", RUNNING: "#007bff", SUCCESS: "#28a745",
                FAILED: "#dc3545", INTERRUPTED: "#ffc107", SKIPPED: "#17a2b8"};
  Chart.defaults.animation = false;      // operators read numbers, not transitions
  Chart.defaults.maintainAspectRatio = false;
  window.fachoCharts = {};

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { window.fachoCharts[id] = new Chart(canvas, config); }
  }

  var perHour = data.per_hour;
  draw("chart-per-hour", {
    type: "bar",
    data: {
      labels: perHour.labels,
      datasets: perHour.series.map(function (serie) {
        return {label: serie.label, data: serie.data, backgroundColor: COLORS[serie.status]};
      })
    },
    options: {
      scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true, ticks: {precision: 0}}},
      plugins: {legend: {position: "bottom"}}
    }
  });

  // OLTs whose runs in the window are all still pending or running have no rate yet.
  var rates = (data.success_rate || []).filter(function (r) { return r.rate !== null; });
  draw("chart-success-rate", {
    type: "bar",
    data: {
      // the rate is in the label too: a 0 % bar has no length to see
      labels: rates.map(function (r) { return r.olt + " (" + r.rate + " %)"; }),
      datasets: [{
        label: "% de éxito",
        data: rates.map(function (r) { return r.rate; }),
        minBarLength: 4,
        backgroundColor: rates.map(function (r) {
          return r.rate >= 95 ? COLORS.SUCCESS : (r.rate >= 80 ? COLORS.INTERRUPTED
            : COLORS.FAILED);
        })
      }]
    },
    options: {
      indexAxis: "y",
      scales: {x: {min: 0, max: 100, ticks: {callback: function (v) { return v + " %"; }}}},
      plugins: {
        legend: {display: false},
        tooltip: {callbacks: {label: function (ctx) {
          var r = rates[ctx.dataIndex];
          return r.rate + " % (" + r.success + " exitosas, " + r.failed + " fallidas)";
        }}}
      }
    }
  });

  var lag = data.lag;
  draw("chart-lag", {
    type: "line",
    data: {
      labels: lag.labels,
      datasets: [
        {label: "Promedio (s)", data: lag.avg_s, borderColor: COLORS.RUNNING,
         backgroundColor: COLORS.RUNNING, spanGaps: true},
        {label: "Máximo (s)", data: lag.max_s, borderColor: COLORS.FAILED,
         backgroundColor: COLORS.FAILED, spanGaps: true}
      ]
    },
    options: {scales: {y: {beginAtZero: true}}, plugins: {legend: {position: "bottom"}}}
  });
})();
