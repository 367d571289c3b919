// The review queue's "select all" box: shown only with JavaScript (the page works without it, one box
// at a time). It ticks every application on the page that the official can recommend.
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  var form = document.getElementById("bulk-form");
  if (!all || !form) { return; }
  var picks = Array.prototype.slice.call(form.querySelectorAll("input.pick"));
  if (!picks.length) { return; }
  all.hidden = false;
  function sync() {
    var ticked = picks.filter(function (p) { return p.checked; }).length;
    all.checked = ticked === picks.length;
    all.indeterminate = ticked > 0 && ticked < picks.length;
  }
  all.addEventListener("change", function () {
    picks.forEach(function (p) { p.checked = all.checked; });
    sync();
  });
  picks.forEach(function (p) { p.addEventListener("change", sync); });
  sync();
}());
