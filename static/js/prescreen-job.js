// Polls a background job's status (a pre-screening upload, a lab import) and
// moves its progress bar; opens its result when the job is done, and reloads
// the page when it failed.
(function () {
  "use strict";
  var box = document.getElementById("prescreen-job") ||
    document.getElementById("background-job");
  if (!box) { return; }
  var progress = document.getElementById("job-progress");
  var bar = progress.querySelector(".progress-bar");
  var count = document.getElementById("job-count");
  var stateText = document.getElementById("job-state");
  var delay = 1000;

  function show(percent) {
    bar.style.width = percent + "%";
    progress.setAttribute("aria-valuenow", String(percent));
  }
  show(Number(bar.getAttribute("data-percent")) || 0);
  if (box.getAttribute("data-state") === "FAILED" || !window.fetch) { return; }

  function poll() {
    window.fetch(box.getAttribute("data-status-url"), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (status) {
      show(status.percent);
      count.textContent = status.label;
      if (stateText) {
        stateText.textContent = box.getAttribute(
          status.state === "QUEUED" ? "data-queued" : "data-running");
      }
      if (status.state === "DONE" && status.url) {
        window.location.assign(status.url);
        return;
      }
      if (status.state === "FAILED") {
        window.location.reload();
        return;
      }
      delay = 1000;
      window.setTimeout(poll, delay);
    }).catch(function () {
      delay = Math.min(delay * 2, 30000);
      window.setTimeout(poll, delay);
    });
  }
  window.setTimeout(poll, delay);
})();
