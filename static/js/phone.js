/* The worker's phone (issue #21), loaded on every page (base.html), no inline script (CSP).
 *
 * - Copy buttons: <button class="copy-button" data-copy="#id" data-done="已复制" hidden>
 *   are shown once this script runs, and copy the target's text.
 * - A field marked with an error loses the mark as soon as it is edited; the form's
 *   summary ("please correct the marked fields") goes when no marked field is left.
 */
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  function setUpCopy(button) {
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (!target) { return; }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = (target.getAttribute("data-value") || target.textContent).trim();
      copyText(text).then(function () {
        button.textContent = button.getAttribute("data-done") || label;
        button.classList.add("is-done");
        window.setTimeout(function () { button.textContent = label; button.classList.remove("is-done"); }, 2500);
      }, function () {
        // No clipboard: select the code so a long press copies it.
        var range = document.createRange();
        range.selectNodeContents(target);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      });
    });
  }

  function clearError(event) {
    var field = event.target.closest(".has-error");
    if (!field) { return; }
    field.classList.remove("has-error");
    field.querySelectorAll(".field-error").forEach(function (p) { p.hidden = true; });
    field.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    var form = field.closest("form");
    if (form && !form.querySelector(".has-error")) {
      form.querySelectorAll(".form-errors[data-generic]").forEach(function (box) { box.hidden = true; });
    }
  }

  function start() {
    document.querySelectorAll("button.copy-button[data-copy]").forEach(setUpCopy);
    document.addEventListener("input", clearError);
    document.addEventListener("change", clearError);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
