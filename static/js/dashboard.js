/* Officials' dashboards: the trend charts (Apache ECharts) and the map (Leaflet).
   Data comes from json_script blocks on the page (the CSP allows no inline
   script) and the grids' outlines from their own URL; without this file the
   page still shows every figure as a table. */
(function () {
  "use strict";

  var BRAND = "#a4161a", BLUE = "#0b5cad", GREEN = "#1e7b34", AMBER = "#d08700", GREY = "#9aa5b1";

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function charts(series) {
    if (!series || !window.echarts) {
      return;
    }
    var made = [];
    document.querySelectorAll("[data-dash-chart]").forEach(function (node) {
      var volume = node.getAttribute("data-dash-chart") === "volume";
      // SVG: crisp on phones, and no canvas to rescale on rotation.
      var chart = window.echarts.init(node, null, {renderer: "svg"});
      var base = {
        animation: false,
        grid: {left: 44, right: 12, top: 30, bottom: 28},
        legend: {top: 0},
        tooltip: {trigger: "axis", renderMode: "richText"},
        xAxis: {type: "category", data: series.labels, axisLabel: {hideOverlap: true}}
      };
      if (volume) {
        base.yAxis = {type: "value", minInterval: 1};
        base.series = [
          {name: series.names.reported, type: "bar", data: series.reported, itemStyle: {color: BLUE}},
          {name: series.names.closed, type: "line", data: series.closed, itemStyle: {color: GREEN}, symbolSize: 4}
        ];
      } else {
        base.yAxis = {type: "value", min: 0, max: 100, axisLabel: {formatter: "{value}%"}};
        base.series = [{name: series.names.on_time_rate, type: "line", data: series.on_time_rate, connectNulls: true,
                        itemStyle: {color: BRAND}, areaStyle: {opacity: 0.08}, symbolSize: 4}];
      }
      chart.setOption(base);
      made.push(chart);
    });
    window.addEventListener("resize", function () {
      made.forEach(function (c) { c.resize(); });
    });
  }

  function colour(props) {
    if (props.overdue > 0) {
      return BRAND;
    }
    return props.open > 0 ? AMBER : GREY;
  }

  // The grids' outlines come from their own URL (cached, revalidated by ETag), the figures per
  // grid with the page: `counts` maps a grid's id to [open, overdue].
  function gridLayer(L, shapes, layers) {
    var counts = layers.counts || {};
    return L.geoJSON(shapes, {
      style: function (feature) {
        var n = counts[feature.id] || [0, 0];
        var c = colour({open: n[0], overdue: n[1]});
        return {color: "#52606d", weight: 1, fillColor: c, fillOpacity: c === GREY ? 0.15 : 0.45};
      },
      onEachFeature: function (feature, layer) {
        var n = counts[feature.id] || [0, 0];
        var text = document.createElement("div");
        var link = document.createElement("a");
        link.href = layers.link.replace("{}", feature.id);
        link.textContent = feature.properties.name;
        text.appendChild(link);
        text.appendChild(document.createElement("br"));
        text.appendChild(document.createTextNode(
          layers.labels.open + " " + n[0] + " · " + layers.labels.overdue + " " + n[1]));
        layer.bindPopup(text);
      }
    });
  }

  function map(layers) {
    var node = document.querySelector("[data-dash-map]");
    if (!node || !layers || !window.L) {
      return;
    }
    var L = window.L;
    var m = L.map(node, {attributionControl: !!layers.tiles, zoomSnap: 0.25});
    if (layers.tiles) {
      L.tileLayer(layers.tiles, {attribution: layers.attribution || "", maxZoom: 19}).addTo(m);
    }
    // Vector layers need a view before they are added: the cases' dots until the outlines come.
    var dots = (layers.points || []).concat(layers.risks || []);
    if (dots.length) {
      m.fitBounds(L.latLngBounds(dots.map(function (p) { return [p[0], p[1]]; })).pad(0.1));
    } else {
      m.setView([31.46, 104.68], 12);
    }
    (layers.points || []).forEach(function (p) {
      L.circleMarker([p[0], p[1]], {radius: 4, weight: 1, color: "#fff", fillOpacity: 0.9,
                                    fillColor: p[2] ? BRAND : BLUE}).addTo(m);
    });
    // Open risks in the national four colours, drawn larger with a dark ring (issue #19).
    var RISK = {red: "#c62828", orange: "#ef6c00", yellow: "#fdd835", blue: "#1565c0"};
    (layers.risks || []).forEach(function (p) {
      L.circleMarker([p[0], p[1]], {radius: 6, weight: 2, color: "#1f2933", fillOpacity: 0.95,
                                    fillColor: RISK[p[2]] || GREY}).addTo(m);
    });
    if (!layers.shapes || !window.fetch) {
      return;
    }
    window.fetch(layers.shapes, {credentials: "same-origin"}).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (shapes) {
      if (!shapes) {
        return;
      }
      var grids = gridLayer(L, shapes, layers);
      var bounds = grids.getBounds();
      if (bounds.isValid()) {
        m.fitBounds(bounds, {padding: [8, 8]});
      }
      grids.addTo(m);
      grids.bringToBack();  // under the dots
    }).catch(function () { /* the dots and the tables stay */ });
  }

  // The people panel counts whole districts of residents; the hotline and organisations' panels read
  // live: they load after the page (each a link until then).
  function panels() {
    if (!window.fetch) {
      return;
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-dash-people], [data-dash-panel]"), function (node) {
      var url = node.getAttribute("data-dash-people") || node.getAttribute("data-dash-panel");
      url += (url.indexOf("?") < 0 ? "?" : "&") + "fragment=1";
      window.fetch(url, {credentials: "same-origin"}).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (html) {
        if (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html;  // our own server-rendered partial
          var sections = holder.querySelectorAll("section");
          if (sections.length) {
            node.replaceWith.apply(node, Array.prototype.slice.call(sections));
          }
        }
      }).catch(function () { /* the link stays */ });
    });
  }

  function start() {
    charts(data("dash-chart-data"));
    map(data("dash-map-data"));
    panels();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
