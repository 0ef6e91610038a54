/* The ONU page's charts (admin/templates/admin/red/onu.html), drawn with the vendored
   Chart.js from the JSON in #onu-chart-data: x values are epoch milliseconds (UTC), shown
   on the operator's clock; series are [[ms, value]] (raw) or [[ms, min, avg, max]]
   (hourly or daily roll-ups, drawn as the average with a min-max band). */
(function () {
  "use strict";
  var source = document.getElementById("onu-chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var raw = data.resolution === "raw";
  var dayOnly = data.resolution === "day";
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  window.fachoCharts = {};

  var clock = new Intl.DateTimeFormat("es-PE", {
    timeZone: data.timezone, day: "2-digit", month: "2-digit",
    hour: dayOnly ? undefined : "2-digit", minute: dayOnly ? undefined : "2-digit"});
  function when(ms) { return clock.format(new Date(ms)); }

  var COLORS = {rx_power: "#007bff", tx_power: "#6f42c1", distancia_onu: "#20c997",
                line: ["#dc3545", "#ffc107", "#fd7e14"], other: "#17a2b8", state: "#28a745"};

  function xAxis() {
    return {type: "linear", min: data.start, max: data.end,
            ticks: {maxTicksLimit: 8, callback: function (v) { return when(v); }}};
  }

  function datasets(label, rows, color) {
    if (raw) {
      return [{label: label, data: rows.map(function (r) { return {x: r[0], y: r[1]}; }),
               borderColor: color, backgroundColor: color, pointRadius: rows.length > 200 ? 0 : 2,
               borderWidth: 1.5}];
    }
    return [
      {label: label + " (prom)", data: rows.map(function (r) { return {x: r[0], y: r[2]}; }),
       borderColor: color, backgroundColor: color, pointRadius: 0, borderWidth: 1.5},
      {label: label + " (mín)", data: rows.map(function (r) { return {x: r[0], y: r[1]}; }),
       borderColor: "transparent", backgroundColor: color + "33", pointRadius: 0, fill: "+1"},
      {label: label + " (máx)", data: rows.map(function (r) { return {x: r[0], y: r[3]}; }),
       borderColor: "transparent", backgroundColor: color + "33", pointRadius: 0, fill: false}
    ];
  }

  function draw(id, sets, extra) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    var options = {parsing: true, spanGaps: false, scales: {x: xAxis()},
                   plugins: {legend: {position: "bottom"},
                             tooltip: {callbacks: {title: function (items) {
                               return items.length ? when(items[0].parsed.x) : ""; }}}}};
    if (extra) { extra(options); }
    window.fachoCharts[id] = new Chart(canvas, {type: "line", data: {datasets: sets},
                                                options: options});
  }

  // Power, with the optics' limit lines as flat datasets across the range.
  var power = [];
  Object.keys(data.power).forEach(function (metric) {
    power = power.concat(datasets(data.names[metric] || metric, data.power[metric],
                                  COLORS[metric] || COLORS.other));
  });
  if (power.length) {
    data.rx_lines.forEach(function (line, i) {
      power.push({label: line.label + " " + line.value + " dBm",
                  data: [{x: data.start, y: line.value}, {x: data.end, y: line.value}],
                  borderColor: COLORS.line[i % COLORS.line.length], borderDash: [6, 4],
                  borderWidth: 1, pointRadius: 0, fill: false});
    });
  }
  draw("chart-power", power);

  if (data.distance) {
    draw("chart-distance", datasets(data.names.distancia_onu, data.distance, COLORS.distancia_onu));
  }
  (data.others || []).forEach(function (other, i) {
    draw("chart-other-" + i, datasets(other.metric, other.data, COLORS.other));
  });

  draw("chart-state", [{label: "En línea (1) / desconectada (0)",
                        data: data.state.map(function (r) { return {x: r[0], y: r[1]}; }),
                        stepped: true, borderColor: COLORS.state,
                        backgroundColor: COLORS.state + "33", fill: true, pointRadius: 0}],
       function (options) {
         options.scales.y = {min: -0.1, max: 1.1, ticks: {stepSize: 1, callback: function (v) {
           return v === 1 ? "en línea" : (v === 0 ? "desconectada" : ""); }}};
       });
}());
