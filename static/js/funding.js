// Funding pages: "select all" on the payment batch form, and the total of the awards selected.
// Loaded with a script tag (CSP: no inline script); the form works without it.
(function () {
  "use strict";

  function formatYuan(fen) {
    var yuan = Math.floor(fen / 100);
    var cents = String(fen % 100).padStart(2, "0");
    return yuan.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + cents;
  }

  // Amounts are added in fen (integers), never as floating-point yuan.
  function toFen(text) {
    var parts = String(text).split(".");
    var cents = ((parts[1] || "") + "00").slice(0, 2);
    return parseInt(parts[0], 10) * 100 + parseInt(cents, 10);
  }

  function update(form, name, output) {
    var total = 0;
    form.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
      if (box.checked) total += toFen(box.dataset.amount || "0");
    });
    if (output) output.textContent = formatYuan(total);
  }

  document.querySelectorAll("[data-select-all]").forEach(function (toggle) {
    var name = toggle.dataset.selectAll;
    var form = toggle.form || toggle.closest("form");
    if (!form) return;
    var boxes = form.querySelectorAll('input[type=checkbox][name="' + name + '"]');
    var output = form.querySelector("[data-selected-total] output");
    toggle.checked = Array.prototype.every.call(boxes, function (b) { return b.checked; });
    toggle.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = toggle.checked; });
      update(form, name, output);
    });
    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        toggle.checked = Array.prototype.every.call(boxes, function (b) { return b.checked; });
        update(form, name, output);
      });
    });
    update(form, name, output);
  });
})();
