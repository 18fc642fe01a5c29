/* The location step (templates/grid/where.html): "use my location" sends the browser's
   position to the same page (?lat=&lon=), which snaps it to the nearest buildings; the
   map draws the buildings found and their grids' outlines (no tile server needed) and a
   tap on it asks for the buildings around that spot. Without this file the search form
   and the list of results work alone. */
(function () {
  "use strict";

  function locate(form) {
    var button = form.querySelector("[data-where-locate-button]");
    var status = form.querySelector("[data-where-locate-status]");
    form.hidden = false;
    button.addEventListener("click", function () {
      var label = button.textContent;
      button.disabled = true;
      button.textContent = button.getAttribute("data-busy");
      status.textContent = "";
      navigator.geolocation.getCurrentPosition(function (position) {
        send(form, position.coords.latitude, position.coords.longitude);
      }, function () {
        button.disabled = false;
        button.textContent = label;
        status.textContent = button.getAttribute("data-denied");
      }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    });
  }

  function send(form, lat, lon) {
    form.querySelector("input[name=lat]").value = lat.toFixed(6);
    form.querySelector("input[name=lon]").value = lon.toFixed(6);
    form.submit();
  }

  function pick(id) {
    Array.prototype.forEach.call(document.querySelectorAll(".where-result"), function (item) {
      var mine = item.getAttribute("data-building") === String(id);
      item.classList.toggle("is-picked", mine);
      if (mine && item.scrollIntoView) {
        item.scrollIntoView({block: "nearest"});
      }
    });
  }

  function map(node, layers, locateForm) {
    var L = window.L;
    node.hidden = false;  // without scripts there is no map, only the list
    var m = L.map(node, {attributionControl: !!layers.tiles, zoomSnap: 0.25});
    if (layers.tiles) {
      L.tileLayer(layers.tiles, {maxZoom: 19}).addTo(m);
    }
    var grids = L.geoJSON(layers.grids, {
      style: function () {
        return {color: "#52606d", weight: 1, fillColor: "#9fb3c8", fillOpacity: 0.25};
      }
    });
    var bounds = grids.getBounds();
    layers.points.forEach(function (p) {
      bounds.extend([p.lat, p.lon]);
    });
    if (bounds.isValid()) {
      m.fitBounds(bounds, {padding: [24, 24], maxZoom: 18});
    } else {
      m.setView([31.46, 104.68], 12);
    }
    grids.addTo(m);
    layers.points.forEach(function (p) {
      var text = document.createElement("div");
      var name = document.createElement("p");
      name.textContent = p.label;
      var link = document.createElement("a");
      link.href = p.url;
      link.textContent = layers.labels.choose;
      text.appendChild(name);
      text.appendChild(link);
      L.circleMarker([p.lat, p.lon], {radius: 8, weight: 2, color: "#fff", fillColor: "#c8102e", fillOpacity: 0.95,
                                    bubblingMouseEvents: false})
        .bindPopup(text).on("click", function () { pick(p.id); }).addTo(m);
    });
    if (locateForm) {
      // A tap on an empty spot: the buildings around there.
      m.on("click", function (event) {
        send(locateForm, event.latlng.lat, event.latlng.lng);
      });
    }
  }

  function start() {
    var locateForm = document.querySelector("[data-where-locate]");
    if (locateForm && navigator.geolocation) {
      locate(locateForm);
    }
    var node = document.querySelector("[data-where-map]");
    var data = document.getElementById("where-layers");
    if (node && data && window.L) {
      map(node, JSON.parse(data.textContent), locateForm);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
