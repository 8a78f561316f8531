/* The badges of the worklist tabs that are not open. Each count is its own small request, so
 * the open list never waits for the others; they are asked one after the other to keep the
 * server's load flat. */
(function () {
  "use strict";
  var tabs = document.querySelector("[data-worklist-counts]");
  if (!tabs || !window.fetch) { return; }
  var base = tabs.dataset.worklistCounts;
  var badges = Array.prototype.slice.call(tabs.querySelectorAll("[data-count-for]"));

  function show(badge, data) {
    var tab = badge.dataset.countFor;
    if (!data) { badge.remove(); return; }
    badge.textContent = data.count + (data.capped ? "+" : "");
    badge.classList.remove("text-bg-light", "border");
    if (data.count) {
      badge.classList.add(tab === "overdue" ? "text-bg-danger" : "text-bg-primary");
    } else {
      badge.classList.add("text-bg-light", "border");
    }
  }

  badges.reduce(function (previous, badge) {
    return previous.then(function () {
      return fetch(base + "&tab=" + encodeURIComponent(badge.dataset.countFor),
                   { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) { show(badge, data); })
        .catch(function () { badge.remove(); });
    });
  }, Promise.resolve());
})();
