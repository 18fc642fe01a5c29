/* Case forms: fill each place select from the one above it, and warn about an
   oversized photo before it is sent. Loaded as a file (the CSP allows no inline
   script); without it the forms still work through their "show the places" button. */
(function () {
  "use strict";

  var ORDER = ["street", "community", "grid", "building"];

  function option(value, text) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    return o;
  }

  function clear(select) {
    while (select.options.length > 1) {
      select.remove(1);
    }
    select.value = "";
  }

  function cascade(form) {
    var url = form.getAttribute("data-places-url");
    var selects = ORDER.map(function (name) {
      return form.querySelector('select[name="' + name + '"]');
    }).filter(Boolean);
    form.classList.add("js");

    selects.forEach(function (select, index) {
      var ticket = 0;
      select.addEventListener("change", function () {
        var next = selects[index + 1];
        selects.slice(index + 1).forEach(clear);
        if (!next || !select.value) {
          return;
        }
        var mine = ++ticket;
        var query = (next.name === "building" ? "grid=" : "parent=") + encodeURIComponent(select.value);
        next.setAttribute("aria-busy", "true");
        fetch(url + "?" + query, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : { items: [] }; })
          .then(function (data) {
            if (mine !== ticket) {
              return;
            }
            data.items.forEach(function (item) { next.appendChild(option(item.id, item.name)); });
            if (data.items.length === 1 && next.name !== "building") {
              next.value = String(data.items[0].id);
              next.dispatchEvent(new Event("change"));
            }
          })
          .catch(function () { /* the "show the places" button still works */ form.classList.remove("js"); })
          .finally(function () { next.removeAttribute("aria-busy"); });
      });
    });
  }

  function photoLimit(input) {
    var max = parseInt(input.getAttribute("data-max-bytes"), 10);
    var message = input.getAttribute("data-too-large") || "";
    input.addEventListener("change", function () {
      var tooBig = Array.prototype.some.call(input.files || [], function (f) { return f.size > max; });
      input.setCustomValidity(tooBig ? message : "");
      if (tooBig) {
        input.reportValidity();
        input.value = "";
      }
    });
  }

  document.querySelectorAll("form[data-places-url]").forEach(cascade);
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(photoLimit);
}());
