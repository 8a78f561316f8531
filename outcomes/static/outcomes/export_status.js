// An export's page: the progress bar, status and download link follow the export's status.
(function () {
  "use strict";
  const box = document.getElementById("export-status");
  if (!box || box.dataset.finished === "1") return;
  const bar = box.querySelector("[data-export-progress]");
  const badge = box.querySelector("[data-export-badge]");
  const error = box.querySelector("[data-export-error]");
  const download = box.querySelector("[data-export-download]");

  window.ovcfPollStatus(box.dataset.statusUrl, function (status) {
    bar.value = status.progress;
    bar.textContent = status.progress + "%";
    badge.textContent = status.status_label;
    if (status.error) {
      error.textContent = status.error;
      error.classList.remove("d-none");
    }
    if (status.download_url) download.classList.remove("d-none");
  });
})();
