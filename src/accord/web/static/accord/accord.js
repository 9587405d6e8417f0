// Draw every <canvas data-chart="ID"> from the JSON that {{ value|json_script:"ID" }} put on
// the page, and select a one-time secret when its field gets focus. No inline scripts, so
// the pages keep working under a strict Content-Security-Policy.
(function () {
  "use strict";

  var PALETTE = ["#1f4fd1", "#19b38a", "#f2a33a", "#8b5cf6", "#e5484d", "#0ea5e9", "#94a3b8"];

  function moneyFormat() {
    var currency = document.documentElement.dataset.currency || "USD";
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency, maximumFractionDigits: 0 });
    } catch (e) {
      return new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
    }
  }

  function useHouseStyle(Chart) {
    if (Chart.accordStyled) return;
    var body = getComputedStyle(document.body);
    Chart.defaults.font.family = body.fontFamily;
    Chart.defaults.font.size = 12;
    Chart.defaults.color = "#4a5568";
    Chart.defaults.borderColor = "#e6ebf1";
    Chart.accordStyled = true;
  }

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof window.Chart === "undefined") return;
    useHouseStyle(window.Chart);
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    var format = spec.money ? moneyFormat() : new Intl.NumberFormat();
    var chart = new window.Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (set, i) {
          return {
            label: set.label,
            data: set.data,
            backgroundColor: PALETTE[i % PALETTE.length],
            borderRadius: 4,
            maxBarThickness: 42
          };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: spec.datasets.length > 1, position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (ctx) { return ctx.dataset.label + ": " + format.format(ctx.parsed.y); }
            }
          }
        },
        scales: {
          x: { stacked: !!spec.stacked, grid: { display: false }, ticks: { autoSkip: false, maxRotation: 40 } },
          y: { stacked: !!spec.stacked, beginAtZero: true, ticks: { precision: 0, callback: function (v) { return format.format(v); } } }
        }
      }
    });
    canvas.dataset.drawn = "true";
    canvas.chart = chart;
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
  });
})();
