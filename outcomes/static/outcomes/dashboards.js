// Draw every dashboard figure from its <script type="application/json"> and, while a
// result is being recomputed, poll the page's status (poll_status.js) and reload once it
// is ready.
// No inline script anywhere: the page stays within a strict Content-Security-Policy.
(function () {
  "use strict";

  function draw(element) {
    const holder = document.getElementById(element.dataset.figure);
    if (!holder || !window.Plotly) return;
    const figure = JSON.parse(holder.textContent);
    window.Plotly.newPlot(element, figure.data, figure.layout, figure.config).then(function () {
      element.dataset.drawn = "1";
    });
  }

  document.querySelectorAll("[data-figure]").forEach(draw);

  const status = document.getElementById("dashboard-status");
  if (!status || status.dataset.recomputing !== "1") return;
  window.ovcfPollStatus(
    status.dataset.statusUrl,
    function (state) {
      state.sources.forEach(function (source, index) {
        const bar = status.querySelector('[data-progress-of="' + index + '"]');
        if (bar) {
          bar.value = source.progress;
          bar.textContent = source.progress + " %";
        }
      });
      if (!state.recomputing) window.location.reload();
    },
    { delay: 1500, finished: function (state) { return !state.recomputing; } }
  );
})();
