// Poll a background job's status URL (a statistics run, an export, a dashboard's
// recomputation) and hand each status to `show` until one says the job finished
// (`finished(status)`, by default its `finished` key). While the server is unreachable the
// delay doubles, up to 15 s, and drops back to the first once it answers.
window.ovcfPollStatus = function (url, show, options) {
  "use strict";
  const settings = options || {};
  const finished = settings.finished || function (status) { return status.finished; };
  const first = settings.delay || 1000;
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
        if (!finished(status)) window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 15000);
        window.setTimeout(poll, delay);
      });
  }
  window.setTimeout(poll, delay);
};
