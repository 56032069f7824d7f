// The portal's only script (no inline scripts: the Content-Security-Policy allows scripts from this site alone).
(function () {
  "use strict";
  var token = function () {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  };
  // every htmx request carries the page's CSRF token as a header (forms carry it as a field too)
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["x-csrftoken"] = token();
  });
  // refuse an over-large file before sending it (the server refuses it anyway)
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var limit = form.getAttribute && form.getAttribute("data-max-bytes");
    var input = form.querySelector && form.querySelector('input[type="file"]');
    if (limit && input && input.files.length && input.files[0].size > Number(limit)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      alertIn(form, "文件超过 " + Math.round(Number(limit) / 1048576) + " MB，请拆分后再上传。");
    }
  }, true);
  function alertIn(form, text) {
    var box = document.createElement("div");
    box.className = "alert alert-danger mt-2";
    box.setAttribute("role", "alert");
    box.textContent = text;
    form.appendChild(box);
  }
  // charts: data in data-chart-data (JSON), drawn by the vendored ECharts
  function drawCharts() {
    if (typeof window.echarts === "undefined") return;
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var data = JSON.parse(el.getAttribute("data-chart-data"));
      var chart = window.echarts.init(el, null, { renderer: "svg", locale: "ZH" });
      var common = { tooltip: { trigger: "axis" }, grid: { left: 40, right: 20, top: 40, bottom: 60 },
        xAxis: { type: "category", data: data.agencies, axisLabel: { interval: 0, rotate: 30 } },
        yAxis: { type: "value", min: 0, max: 100 } };
      if (el.getAttribute("data-chart") === "counts") {
        chart.setOption({ tooltip: { trigger: "axis" }, title: { text: data.title, left: "center" },
          grid: { left: 60, right: 20, top: 40, bottom: 80 },
          xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, rotate: 30 } },
          yAxis: { type: "value", min: 0 }, series: [{ type: "bar", name: "记录数", data: data.values }] });
      } else if (el.getAttribute("data-chart") === "scores") {
        chart.setOption(Object.assign(common, { title: { text: "综合得分", left: "center" },
          series: [{ type: "bar", data: data.score, name: "得分",
            markLine: { symbol: "none", data: [{ yAxis: data.line, name: "整改线" }] } }] }));
      } else {
        chart.setOption(Object.assign(common, { title: { text: "分项指标（%）", left: "center" },
          legend: { bottom: 0 }, grid: { left: 40, right: 20, top: 40, bottom: 90 },
          series: data.series.map(function (s) { return { type: "bar", name: s.name, data: s.data }; }) }));
      }
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  // after every deferred script (ECharts is loaded by the pages that draw charts, after this file)
  if (document.readyState === "complete") drawCharts();
  else window.addEventListener("load", drawCharts);
})();
