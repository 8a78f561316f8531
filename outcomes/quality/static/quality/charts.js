// Draws every figure of the page: a container [data-figure="ID"] takes the Plotly figure
// (data + layout) that the server put in <script type="application/json" id="ID">.
(function () {
  "use strict";
  if (typeof window.Plotly === "undefined") {
    return;
  }
  document.querySelectorAll("[data-figure]").forEach(function (container) {
    var source = document.getElementById(container.dataset.figure);
    if (!source) {
      return;
    }
    var figure = JSON.parse(source.textContent);
    var layout = Object.assign({ height: 360, autosize: true }, figure.layout || {});
    window.Plotly.newPlot(container, figure.data || [], layout, {
      displaylogo: false,
      responsive: true,
    }).then(function () {
      container.dataset.drawn = "1";
    });
  });
})();
