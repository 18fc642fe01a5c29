/* The admin's tabular inlines scroll sideways on a phone inside Django's `.wrapper`; a region
   that scrolls must take the keyboard's focus to be scrolled without a pointer (axe:
   scrollable-region-focusable). Each such wrapper becomes a focusable, named region. */
(function () {
  "use strict";
  function mark() {
    Array.prototype.forEach.call(document.querySelectorAll(".inline-group .wrapper, #changelist .results"),
      function (node) {
        if (node.hasAttribute("tabindex")) {
          return;
        }
        node.setAttribute("tabindex", "0");
        node.setAttribute("role", "region");
        var heading = node.closest("fieldset") && node.closest("fieldset").querySelector("h2");
        node.setAttribute("aria-label", heading ? heading.textContent.trim() : document.title);
      });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mark);
  } else {
    mark();
  }
}());
