// The participant page's plots over study weeks (Chart.js, vendored). The data comes from
// the page's json_script element "capture-plot-data": no inline script, which the
// Content-Security-Policy would refuse.
(function () {
  "use strict";
  var source = document.getElementById("capture-plot-data");
  if (!source) { return; }
  var data = JSON.parse(source.textContent);
  function xAxis() {
    return {type: "linear", title: {display: true, text: data.weeks_label}, ticks: {stepSize: 4}};
  }
  function draw(id, datasets, scales, title) {
    var canvas = document.getElementById(id);
    if (!canvas || typeof Chart === "undefined") { return; }
    new Chart(canvas, {
      type: "line",
      data: {datasets: datasets},
      options: {
        animation: false, responsive: true, parsing: true,
        plugins: {title: {display: true, text: title}, legend: {display: datasets.length > 1}},
        scales: scales
      }
    });
  }
  draw("plot-efficacy",
    [{label: data.efficacy.label, data: data.efficacy.points, borderColor: "#0d6efd", backgroundColor: "#0d6efd"}],
    {x: xAxis(), y: {beginAtZero: true, title: {display: true, text: data.efficacy.label}}},
    data.efficacy.label);
  draw("plot-treg",
    [{label: data.treg.pct_label, data: data.treg.pct, yAxisID: "y", borderColor: "#198754", backgroundColor: "#198754"},
     {label: data.treg.abs_label, data: data.treg.abs, yAxisID: "y1", borderColor: "#6f42c1", backgroundColor: "#6f42c1", borderDash: [5, 3]}],
    {x: xAxis(),
     y: {beginAtZero: true, position: "left", title: {display: true, text: data.treg.pct_label}},
     y1: {beginAtZero: true, position: "right", grid: {drawOnChartArea: false}, title: {display: true, text: data.treg.abs_label}}},
    "Treg");
  var steroid = [{label: data.steroid.label, data: data.steroid.points, borderColor: "#dc3545", backgroundColor: "#dc3545", stepped: false}];
  if (data.steroid.others && data.steroid.others.length) {
    steroid.push({label: data.steroid.others_label, data: data.steroid.others, borderColor: "#fd7e14", backgroundColor: "#fd7e14", borderDash: [5, 3]});
  }
  draw("plot-steroid", steroid,
    {x: xAxis(), y: {beginAtZero: true, title: {display: true, text: data.steroid.label}}},
    data.steroid.label);
})();
