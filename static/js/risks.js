// The patrol's route, only when the worker ticked "record my route" for this patrol
// (the day page then marks the form with data-track). Points stay in this tab's
// sessionStorage until the patrol ends, then go with the end form; nothing else sends them.
(function () {
  "use strict";
  var form = document.querySelector("form[data-track]");
  if (!form || !navigator.geolocation) { return; }
  var key = "patrol-route-" + form.getAttribute("data-track");
  var input = form.querySelector("input[name=route]");
  function load() { try { return JSON.parse(sessionStorage.getItem(key) || "[]"); } catch (e) { return []; } }
  navigator.geolocation.watchPosition(function (pos) {
    var points = load();
    points.push([pos.coords.latitude, pos.coords.longitude]);
    if (points.length <= 2000) { sessionStorage.setItem(key, JSON.stringify(points)); }
  }, function () {}, { enableHighAccuracy: false, maximumAge: 60000 });
  form.addEventListener("submit", function () {
    var points = load();
    if (input && points.length) { input.value = JSON.stringify(points); }
    sessionStorage.removeItem(key);
  });
})();
