// Assessment pages: error summary focus, and live progress on a run's page.
//
// Everything here is an enhancement. Without JavaScript the forms post as usual and a run's
// page shows its progress when reloaded. Text from the server is only set with textContent.
(function () {
  "use strict";

  var summary = document.querySelector(".govuk-error-summary");
  if (summary && !document.querySelector("[data-job-status-url]")) {
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }

  var box = document.querySelector("[data-job-status-url]");
  if (!box || ["done", "failed"].indexOf(box.getAttribute("data-job-status")) >= 0) {
    return;
  }
  var url = box.getAttribute("data-job-status-url");
  var bar = box.querySelector("progress");
  var step = box.querySelector("[data-job-step]");
  var note = box.querySelector("[data-job-refresh-note]");
  if (note) {
    note.textContent = "The assessment runs in the background; this page updates by itself, " +
      "and you can leave it and come back.";
  }

  function show(status) {
    if (bar) {
      bar.max = Math.max(status.steps_total, 1);
      bar.value = status.steps_done;
      bar.textContent = Math.round(status.progress * 100) + "%";
    }
    if (step) {
      step.textContent = "Step " + status.steps_done + " of " + status.steps_total +
        (status.step ? ": " + status.step : "");
    }
  }

  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (status) {
        show(status);
        if (status.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
