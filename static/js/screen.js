/* The command screen (指挥大屏): draws the figures from the page's json_script block, then
   asks the JSON endpoint again every refresh_seconds and redraws in place (no reload).
   Kiosk-safe: the map and charts take no pointer input, nothing depends on hovering. */
(function () {
  "use strict";

  var TEXT = "#e8f1fb", MUTED = "#8fa9c5", EDGE = "#1c3957", ACCENT = "#45c4ff", GOOD = "#3ddc97";
  var LOAD = ["#17324d", "#2b7bb9", "#e0a526", "#f26b38"], LATE = "#ff3b3b";
  var body = document.body;
  var lang = document.documentElement.lang || "zh-hans";
  var locale = lang.indexOf("zh") === 0 ? "zh-CN" : lang;
  var trendChart = null, gridLayer = null, state = {load: {}};

  function $(selector) { return document.querySelector(selector); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function number(n) {
    return typeof n === "number" ? n.toLocaleString(locale) : (n === null || n === undefined ? "—" : String(n));
  }

  function counters(list) {
    list.forEach(function (c) {
      var node = document.querySelector("[data-counter='" + c.key + "']");
      if (node) { node.textContent = number(c.value); }
    });
  }

  function rates(list) {
    var holder = $("[data-screen-rates]");
    var before = holder.getAttribute("data-before");
    var tiles = list.map(function (r) {
      var tile = el("div", "rate");
      tile.appendChild(el("p", "rate-label", r.label));
      tile.appendChild(el("p", "rate-value", r.text));
      var line = el("p", "rate-before", before + " " + r.before);
      if (r.change !== null && r.change !== 0) {
        var up = r.change > 0;
        var better = r.lower_is_better ? !up : up;
        line.appendChild(el("span", "rate-change " + (better ? "better" : "worse"), up ? "▲" : "▼"));
      }
      tile.appendChild(line);
      return tile;
    });
    holder.replaceChildren.apply(holder, tiles);
  }

  function trend(series) {
    var node = $("[data-screen-trend]");
    if (!node || !window.echarts) { return; }
    if (!trendChart) {
      trendChart = window.echarts.init(node, null, {renderer: "svg"});
      window.addEventListener("resize", function () { trendChart.resize(); });
    }
    trendChart.setOption({
      animation: false,
      textStyle: {fontSize: 18, color: TEXT},
      grid: {left: 56, right: 16, top: 40, bottom: 36},
      legend: {top: 0, textStyle: {color: TEXT, fontSize: 18}, selectedMode: false},
      xAxis: {type: "category", data: series.labels, axisLabel: {color: MUTED, fontSize: 16, hideOverlap: true},
              axisLine: {lineStyle: {color: EDGE}}},
      yAxis: {type: "value", minInterval: 1, axisLabel: {color: MUTED, fontSize: 16},
              splitLine: {lineStyle: {color: EDGE}}},
      series: [
        {name: series.names.reported, type: "bar", data: series.reported, itemStyle: {color: ACCENT}, silent: true},
        {name: series.names.closed, type: "line", data: series.closed, itemStyle: {color: GOOD},
         lineStyle: {width: 3}, symbolSize: 6, silent: true}
      ]
    }, true);
  }

  function ranking(table) {
    var head = $("[data-ranking-head]"), rows = $("[data-ranking-body]"), note = $("[data-ranking-note]");
    if (!table) {
      head.replaceChildren();
      rows.replaceChildren();
      note.textContent = "";
      return;
    }
    $("[data-ranking-title]").textContent = table.title;
    var tr = el("tr");
    table.columns.forEach(function (c) { tr.appendChild(el("th", null, c)); });
    head.replaceChildren(tr);
    var lines = table.rows.map(function (row) {
      var line = el("tr");
      row.forEach(function (cell) { line.appendChild(el("td", null, cell === "" ? "—" : number(cell))); });
      return line;
    });
    if (!lines.length) {
      var none = el("tr"), cell = el("td", "empty", "—");
      cell.colSpan = table.columns.length;
      none.appendChild(cell);
      lines = [none];
    }
    rows.replaceChildren.apply(rows, lines);
    note.textContent = table.note;
  }

  function matter(m) {
    var li = el("li");
    li.appendChild(el("span", "at", m.at));
    li.appendChild(el("span", "what", m.category));
    li.appendChild(el("span", "state state-" + m.state, m.status));
    li.appendChild(el("span", "where", m.place + (m.channel ? " · " + m.channel : "")));
    return li;
  }

  function newest(list) {
    var ul = $("[data-screen-newest]");
    ul.classList.remove("rolling");
    ul.replaceChildren.apply(ul, list.map(matter));
    // Roll only when the list is taller than its box; the copy makes the loop seamless.
    window.requestAnimationFrame(function () {
      if (ul.scrollHeight > ul.parentNode.clientHeight + 2) {
        list.forEach(function (m) {
          var copy = matter(m);
          copy.setAttribute("aria-hidden", "true");
          ul.appendChild(copy);
        });
        ul.style.setProperty("--ticker-seconds", Math.max(20, list.length * 4) + "s");
        ul.classList.add("rolling");
      }
    });
  }

  function gridStyle(feature) {
    var load = state.load[String(feature.id)] || [0, 0];
    var open = load[0], late = load[1];
    var bucket = open === 0 ? 0 : open <= 2 ? 1 : open <= 5 ? 2 : 3;
    return {color: late ? LATE : "#2a4a6b", weight: late ? 2.5 : 1, fillColor: LOAD[bucket],
            fillOpacity: bucket ? 0.8 : 0.55};
  }

  function map(layers) {
    var node = $("[data-screen-map]");
    if (!node || !layers || !layers.grids || !window.L) { return; }
    var L = window.L;
    var m = L.map(node, {
      attributionControl: !!layers.tiles, zoomControl: false, dragging: false, touchZoom: false,
      scrollWheelZoom: false, doubleClickZoom: false, boxZoom: false, keyboard: false, zoomSnap: 0.1
    });
    if (layers.tiles) {
      L.tileLayer(layers.tiles, {attribution: layers.attribution || "", maxZoom: 19}).addTo(m);
    }
    gridLayer = L.geoJSON(layers.grids, {style: gridStyle, interactive: false});
    var bounds = gridLayer.getBounds();
    if (bounds.isValid()) {
      m.fitBounds(bounds, {padding: [6, 6]});
    } else {
      m.setView([31.46, 104.68], 12);
    }
    gridLayer.addTo(m);
    window.addEventListener("resize", function () {
      m.invalidateSize();
      if (bounds.isValid()) { m.fitBounds(bounds, {padding: [6, 6]}); }
    });
  }

  function fresh(data, stale) {
    var node = $("[data-screen-fresh]");
    node.classList.toggle("stale", !!stale);
    node.textContent = stale ? node.getAttribute("data-stale")
      : (data.fresh_at ? node.getAttribute("data-label") + " " + data.fresh_at : "");
  }

  function draw(data) {
    state.load = data.load || {};
    counters(data.counters);
    rates(data.rates);
    trend(data.trend);
    ranking(data.ranking);
    newest(data.newest);
    if (gridLayer) { gridLayer.setStyle(gridStyle); }
    fresh(data, false);
    body.setAttribute("data-screen-day", data.today);
  }

  function refresh() {
    var url = body.getAttribute("data-screen-url");
    window.fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok || (response.headers.get("Content-Type") || "").indexOf("json") < 0) {
          throw new Error("refresh failed");
        }
        return response.json();
      })
      .then(function (data) {
        draw(data);
        body.setAttribute("data-screen-refreshed", String(Date.now()));
      })
      .catch(function () { fresh(null, true); });
  }

  function clock() {
    var node = $("[data-screen-clock]");
    var now = new Date();
    node.textContent = now.toLocaleString(locale, {
      timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit", weekday: "short",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false
    });
  }

  function start() {
    var first = JSON.parse(document.getElementById("screen-data").textContent);
    map(first.map);
    draw(first);
    clock();
    window.setInterval(clock, 1000);
    window.setInterval(refresh, (first.refresh_seconds || 30) * 1000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
