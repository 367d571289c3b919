// Polls the generation of a published list's certificates and updates the counts and the <progress>.
(function () {
  "use strict";
  var box = document.getElementById("certificate-progress");
  if (!box || box.dataset.complete === "1") { return; }
  var bar = document.getElementById("certificate-progress-bar");
  var done = document.getElementById("progress-done");
  var total = document.getElementById("progress-total");
  var failed = document.getElementById("progress-failed");
  var tries = 0;
  function poll() {
    tries += 1;
    fetch(box.dataset.progressUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (p) {
        bar.max = p.total || 1;
        bar.value = p.done;
        done.textContent = p.done;
        total.textContent = p.total;
        failed.textContent = p.failed;
        if (p.complete) { window.location.reload(); }
        else if (tries < 300) { window.setTimeout(poll, 2000); }
      })
      .catch(function () { if (tries < 300) { window.setTimeout(poll, 5000); } });
  }
  window.setTimeout(poll, 1000);
})();
