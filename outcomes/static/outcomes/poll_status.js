// Poll a background job's status URL (a statistics run, an export) and hand each status to
// `show` until one says the job finished. While the server is unreachable the delay doubles,
// up to 15 s, and drops back to 1 s once it answers.
window.ovcfPollStatus = function (url, show) {
  "use strict";
  const first = 1000;
  let delay = first;

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      })
      .then(function (status) {
        delay = first;
        show(status);
        if (!status.finished) window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 15000);
        window.setTimeout(poll, delay);
      });
  }
  window.setTimeout(poll, delay);
};
