// Autosave of the application form: a few seconds after a change, when a field loses focus and when the
// page is hidden, the form's sections go to the save URL as JSON with the revision they are based on.
// The server answers with the new revision and the fields that need correcting; a 409 "stale" means
// another window saved in between, and autosave stops rather than overwrite it. Without JavaScript the
// "Save draft" button posts the same form normally.
(function () {
  "use strict";

  var DELAY_MS = 3000;

  function focusProblems() {
    var summary = document.getElementById("problem-summary");
    if (summary) { summary.focus(); }
  }

  var form = document.getElementById("application-form");
  if (!form) { focusProblems(); return; }
  var status = document.getElementById("autosave-status");
  var revisionInput = form.elements.namedItem("revision");
  var csrfInput = form.elements.namedItem("csrfmiddlewaretoken");
  var timer = null;
  var inFlight = null;
  var dirty = false;
  var stopped = false;

  function message(key, time) {
    var text = (status && status.dataset[key]) || "";
    return time ? text.replace("%(time)s", time) : text;
  }

  function say(key, time, isError) {
    if (!status) { return; }
    status.textContent = message(key, time);
    status.classList.toggle("field-error", Boolean(isError));
  }

  function csrfToken() {
    if (csrfInput && csrfInput.value) { return csrfInput.value; }
    var match = document.cookie.match(/(?:^|;\s*)(?:__Host-)?csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // {"products": {"main_product": "…"}, …} from the inputs named "<section>.<field>".
  function collect() {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name.indexOf(".") < 0 || el.disabled) { return; }
      var parts = el.name.split(".");
      var section = parts[0];
      var field = parts.slice(1).join(".");
      data[section] = data[section] || {};
      data[section][field] = el.type === "checkbox" ? el.checked : el.value;
    });
    return data;
  }

  // Show the draft check's messages by their fields. Messages from a refused submission (data-draft is
  // empty) stay until the next submission; the draft check's own are cleared once the value is right.
  function showErrors(errors) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name.indexOf(".") < 0 || !el.id) { return; }
      var box = document.getElementById(el.id + "-error");
      var wrapper = el.closest(".field");
      var text = errors[el.name];
      if (!box) { return; }
      if (text) {
        box.textContent = text;
        box.hidden = false;
        box.dataset.draft = "1";
        el.setAttribute("aria-invalid", "true");
        if (wrapper) { wrapper.classList.add("has-error"); }
      } else if (box.dataset.draft === "1" && !box.hidden) {
        box.textContent = "";
        box.hidden = true;
        el.removeAttribute("aria-invalid");
        if (wrapper) { wrapper.classList.remove("has-error"); }
      }
    });
  }

  function save(options) {
    if (stopped || !dirty) { return Promise.resolve(); }
    if (inFlight) {
      // One save at a time, so that each is based on the revision the previous one returned.
      return inFlight.then(function () { return save(options); });
    }
    dirty = false;
    window.clearTimeout(timer);
    timer = null;
    say("saving");
    inFlight = fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      keepalive: Boolean(options && options.keepalive),
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken(),
        "X-Requested-With": "XMLHttpRequest"
      },
      body: JSON.stringify({ data: collect(), revision: parseInt(revisionInput.value, 10) })
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          return { status: response.status, body: body };
        });
      })
      .then(function (result) {
        var body = result.body || {};
        if (result.status === 200) {
          revisionInput.value = body.revision;
          var errors = body.errors || {};
          showErrors(errors);
          say(Object.keys(errors).length ? "invalid" : "saved", body.saved_at_display);
        } else if (result.status === 409 && body.error && body.error.code === "stale") {
          stopped = true;
          say("stale", null, true);
        } else if (result.status === 409) {
          stopped = true;
          say("refused", null, true);
        } else {
          dirty = true;
          say("failed", null, true);
          schedule(DELAY_MS * 3);
        }
      })
      .catch(function () {
        dirty = true;
        say("failed", null, true);
        schedule(DELAY_MS * 3);
      })
      .then(function () { inFlight = null; });
    return inFlight;
  }

  function schedule(delay) {
    if (stopped) { return; }
    window.clearTimeout(timer);
    timer = window.setTimeout(save, delay || DELAY_MS);
  }

  function changed(event) {
    if (!event.target.name || event.target.name.indexOf(".") < 0) { return; }
    dirty = true;
    schedule();
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("focusout", function (event) {
    if (dirty && event.target.name && event.target.name.indexOf(".") >= 0) { save(); }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { save({ keepalive: true }); }
  });

  // "Save draft" and "Submit" post the form normally; wait for a save under way first, so that the
  // form carries the revision it returned instead of one that is already stale.
  form.addEventListener("submit", function (event) {
    window.clearTimeout(timer);
    if (!inFlight) { stopped = true; return; }
    event.preventDefault();
    var submitter = event.submitter;
    inFlight.then(function () {
      stopped = true;
      if (form.requestSubmit) { form.requestSubmit(submitter || undefined); } else { form.submit(); }
    });
  });

  focusProblems();
})();
