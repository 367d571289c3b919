// Service commissioner pages: move focus to the error summary after a refused form, so that screen
// reader and keyboard users land on what to correct; ask before closing a request (it cannot reopen).
// The pages work without JavaScript.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
  Array.prototype.forEach.call(document.querySelectorAll("button[data-confirm]"), function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
}());
