// SLA countdowns: tick down every [data-sla-countdown] badge the server rendered, turning amber
// at the warn share and red at breach. The server computed the working time left; ticking stops
// at data-sla-ticks-until (the end of today's working hours) so a night does not count.
(function () {
  "use strict";

  function format(seconds) {
    var sign = seconds < 0 ? "-" : "";
    var s = Math.abs(Math.round(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), rest = s % 60;
    if (h >= 24) return sign + Math.floor(h / 24) + "d " + (h % 24) + "h";
    if (h > 0) return sign + h + "h " + (m < 10 ? "0" : "") + m + "m";
    return sign + m + "m " + (rest < 10 ? "0" : "") + rest + "s";
  }

  function setUp(el) {
    var state = el.dataset.slaState;
    var time = el.querySelector(".sla-countdown-time");
    if (["met", "paused", "cancelled"].indexOf(state) !== -1) return null;
    var remaining = Number(el.dataset.slaRemaining);
    var warnBelow = Number(el.dataset.slaWarnBelow);
    var ticksUntil = el.dataset.slaTicksUntil ? Number(el.dataset.slaTicksUntil) * 1000 : null;
    var loaded = Date.now();

    function render() {
      if (!el.isConnected) return false;  // swapped out: stop ticking it
      var now = Date.now();
      var ticked = ticksUntil === null ? 0 : (Math.min(now, ticksUntil) - loaded) / 1000;
      var left = remaining - Math.max(ticked, 0);
      var next = left <= 0 ? "breached" : (left <= warnBelow ? "warning" : "running");
      if (state !== "breached") el.dataset.slaState = next;
      time.textContent = left <= 0 ? "overdue " + format(-left) : format(left);
      if (ticksUntil !== null && now >= ticksUntil && left > 0) time.textContent += " (after hours)";
    }
    render();
    return render;
  }

  var renders = [];

  // Safe to call again after htmx swaps in new rows: each badge is set up once.
  function start() {
    document.querySelectorAll("[data-sla-countdown]:not([data-sla-started])").forEach(function (el) {
      el.dataset.slaStarted = "1";
      var render = setUp(el);
      if (render) renders.push(render);
    });
  }

  setInterval(function () {
    renders = renders.filter(function (render) { return render() !== false; });
  }, 1000);
  document.addEventListener("htmx:afterSettle", start);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
