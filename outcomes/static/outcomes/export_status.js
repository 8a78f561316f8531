// Poll an export's status and move the progress bar until the export is ready or failed.
(function () {
  "use strict";
  const box = document.getElementById("export-status");
  if (!box || box.dataset.finished === "1") return;
  const url = box.dataset.statusUrl;
  const bar = box.querySelector("[data-export-progress]");
  const badge = box.querySelector("[data-export-badge]");
  const error = box.querySelector("[data-export-error]");
  const download = box.querySelector("[data-export-download]");
  let delay = 1000;

  function show(status) {
    bar.value = status.progress;
    bar.textContent = status.progress + "%";
    badge.textContent = status.status_label;
    if (status.error) {
      error.textContent = status.error;
      error.classList.remove("d-none");
    }
    if (status.download_url) download.classList.remove("d-none");
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      })
      .then(function (status) {
        show(status);
        if (!status.finished) window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 15000);
        window.setTimeout(poll, delay);
      });
  }
  window.setTimeout(poll, delay);
})();
