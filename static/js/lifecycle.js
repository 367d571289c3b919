// Dynamic-management pages: ask before an action that cannot be undone (withdrawing a re-verification,
// rejecting one, which revokes the certification). Loaded with `defer`; no inline script (CSP).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
  // An error summary takes the focus, so that a screen reader announces it first.
  var summary = document.querySelector("#problems, #act-errors");
  if (summary) {
    summary.focus();
  }
})();
