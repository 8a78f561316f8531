/* Idle sign-out: the server ends a session after the configured minutes without a request.
 * Typing in a long form counts as activity: it renews the session at most once a minute.
 * After the full idle period with no activity the page goes to the sign-in page, so an
 * unattended screen does not keep showing patient data. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="registry-idle-timeout"]');
  if (!meta) { return; }
  var timeoutMs = parseInt(meta.content, 10) * 1000;
  var loginUrl = document.querySelector('meta[name="registry-login-url"]').content;
  var keepaliveUrl = document.body.dataset.keepaliveUrl;
  var lastServerContact = Date.now();
  var lastActivity = Date.now();

  function signOutPage() {
    var next = window.location.pathname + window.location.search;
    window.location.assign(loginUrl + "?idle=1&next=" + encodeURIComponent(next));
  }

  function activity() {
    lastActivity = Date.now();
    if (keepaliveUrl && Date.now() - lastServerContact > 60000) {
      lastServerContact = Date.now();
      fetch(keepaliveUrl, { credentials: "same-origin", redirect: "manual" }).then(function (r) {
        if (r.status !== 204) { signOutPage(); }
      }).catch(function () { /* offline: the next save will tell */ });
    }
  }

  ["keydown", "input", "click"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true });
  });
  window.setInterval(function () {
    if (Date.now() - Math.max(lastActivity, lastServerContact) >= timeoutMs) { signOutPage(); }
  }, 15000);
})();

/* When the browser refuses a value (min, max, step, required), say it next to the field as
 * the server would, not only in the browser's bubble; the server checks again on saving. */
(function () {
  "use strict";
  function feedbackFor(input) {
    var holder = input.closest(".input-group") || input.parentElement;
    var note = holder.querySelector(".client-error");
    if (!note) {
      note = document.createElement("div");
      note.className = "invalid-feedback d-block client-error";
      note.id = (input.id || input.name) + "_client_error";
      note.setAttribute("aria-live", "polite");
      holder.appendChild(note);
    }
    return note;
  }
  document.addEventListener("invalid", function (event) {
    var input = event.target;
    if (!input.matches("input, select, textarea") || input.type === "radio") { return; }
    input.classList.add("is-invalid");
    feedbackFor(input).textContent = input.validationMessage;
  }, true);
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input, select, textarea")) { return; }
    var holder = input.closest(".input-group") || input.parentElement;
    var note = holder && holder.querySelector(".client-error");
    if (note && input.checkValidity()) {
      note.remove();
      input.classList.remove("is-invalid");
    }
  });
})();

/* Behaviour that would otherwise sit inline in templates, which the Content-Security-Policy
 * forbids: `data-autosubmit` submits its form on change; `data-width-percent` sets a width
 * (progress bars) through the CSSOM, which the policy allows, not through a style attribute. */
(function () {
  "use strict";
  document.querySelectorAll("[data-autosubmit]").forEach(function (input) {
    input.addEventListener("change", function () { if (input.form) { input.form.submit(); } });
  });
  document.querySelectorAll("[data-width-percent]").forEach(function (element) {
    element.style.width = element.dataset.widthPercent + "%";
  });
})();
