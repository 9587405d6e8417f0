// Draw every <canvas data-sla-chart="ID"> of the compliance pages as a line chart from the
// JSON that {{ value|json_script:"ID" }} put on the page: datasets name their axis ("share"
// in %, "hours", or "count"); markers draw a labelled vertical line at a point (a new SLA
// version). No inline scripts, so the pages keep working under a strict CSP.
(function () {
  "use strict";

  var COLOURS = ["#1f4fd1", "#e5484d", "#19b38a", "#f2a33a"];
  var AXES = {
    share: { position: "left", min: 0, max: 100, title: "On time (%)" },
    hours: { position: "right", min: 0, title: "Working hours", grid: false },
    count: { position: "left", min: 0, title: "MQLs" }
  };

  var markers = {
    id: "slaMarkers",
    afterDatasetsDraw: function (chart, args, options) {
      var list = options.items || [];
      if (!list.length) return;
      var ctx = chart.ctx, x = chart.scales.x, area = chart.chartArea;
      ctx.save();
      ctx.strokeStyle = "#8b5cf6";
      ctx.fillStyle = "#8b5cf6";
      ctx.setLineDash([4, 4]);
      ctx.font = "600 11px sans-serif";
      list.forEach(function (marker) {
        var at = x.getPixelForValue(marker.index);
        ctx.beginPath();
        ctx.moveTo(at, area.top);
        ctx.lineTo(at, area.bottom);
        ctx.stroke();
        ctx.fillText(marker.label, at + 4, area.top + 12);
      });
      ctx.restore();
    }
  };

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof window.Chart === "undefined") return;
    var source = document.getElementById(canvas.dataset.slaChart);
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    var scales = { x: { grid: { display: false }, ticks: { maxRotation: 40 } } };
    spec.datasets.forEach(function (set) {
      var axis = AXES[set.axis];
      scales[set.axis] = {
        position: axis.position, min: axis.min, max: axis.max, beginAtZero: true,
        grid: { display: axis.grid !== false }, title: { display: true, text: axis.title }
      };
    });
    var chart = new window.Chart(canvas, {
      type: "line",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (set, i) {
          return {
            label: set.label, data: set.data, yAxisID: set.axis, borderColor: COLOURS[i % COLOURS.length],
            backgroundColor: COLOURS[i % COLOURS.length], borderDash: set.dashed ? [6, 4] : [],
            pointRadius: spec.labels.length > 40 ? 0 : 3, spanGaps: true, tension: 0.2
          };
        })
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { position: "bottom" }, slaMarkers: { items: spec.markers || [] } },
        scales: scales
      },
      plugins: [markers]
    });
    canvas.dataset.drawn = "true";
    canvas.chart = chart;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-sla-chart]").forEach(draw);
  });
})();
