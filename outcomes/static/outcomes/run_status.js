// A statistics run's page: the progress bar and status follow the run's status; a finished
// run opens its result.
(function () {
  "use strict";
  const box = document.getElementById("run-status");
  if (!box || box.dataset.finished === "1") return;
  const bar = box.querySelector("[data-run-progress]");
  const fill = bar.querySelector(".progress-bar");
  const badge = box.querySelector("[data-run-badge]");
  const error = box.querySelector("[data-run-error]");
  const result = box.querySelector("[data-run-result]");
  const badgeClass = { pending: "text-bg-secondary", running: "text-bg-primary", done: "text-bg-success", failed: "text-bg-danger" };

  window.ovcfPollStatus(box.dataset.statusUrl, function (status) {
    bar.setAttribute("aria-valuenow", status.progress);
    fill.style.width = status.progress + "%";
    fill.textContent = status.progress + "%";
    badge.textContent = status.status_label;
    badge.className = "badge " + (badgeClass[status.status] || "text-bg-secondary");
    if (status.finished) {
      fill.classList.remove("progress-bar-striped", "progress-bar-animated");
      if (status.status === "failed") fill.classList.add("bg-danger");
    }
    if (status.error) {
      error.textContent = status.error;
      error.classList.remove("d-none");
    }
    if (status.result_url) {
      result.classList.remove("d-none");
      window.location.assign(status.result_url);
    }
  });
})();
