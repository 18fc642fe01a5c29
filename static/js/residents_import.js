/* The resident import's progress bar: polls the job's status.json (no inline script; CSP). */
(function () {
  "use strict";
  var box = document.querySelector("[data-import-status-url]");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-import-status-url");
  var bar = box.querySelector("[data-import-bar]");
  var processed = box.querySelector("[data-import-processed]");
  var label = box.querySelector("[data-import-label]");
  var delay = 1000;

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (job) {
        if (bar) { bar.value = job.percent; bar.textContent = job.percent + "%"; }
        if (processed) { processed.textContent = job.processed; }
        if (label) { label.textContent = job.status_label; }
        if (job.finished) {
          window.location.assign(job.url);
          return;
        }
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 15000);  // the server is busy or the network gone: back off
        window.setTimeout(poll, delay);
      });
  }
  window.setTimeout(poll, delay);
}());
