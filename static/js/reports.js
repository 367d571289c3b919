// Polls the generation of a development report (reports.views.report_job_progress) and updates the <progress>,
// the percentage and the step; reloads the page once the report is ready or has failed.
(function () {
  "use strict";
  var box = document.getElementById("report-progress");
  if (!box || box.dataset.complete === "1") { return; }
  var bar = document.getElementById("report-progress-bar");
  var percent = document.getElementById("report-progress-percent");
  var step = document.getElementById("report-progress-step");
  var tries = 0;
  function poll() {
    tries += 1;
    fetch(box.dataset.progressUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (p) {
        bar.value = p.progress;
        bar.textContent = p.progress + "%";
        percent.textContent = p.progress;
        step.textContent = p.step;
        if (p.complete || p.failed) { window.location.reload(); }
        else if (tries < 300) { window.setTimeout(poll, 2000); }
      })
      .catch(function () { if (tries < 300) { window.setTimeout(poll, 5000); } });
  }
  window.setTimeout(poll, 1000);
})();
