// Periodic report trend: GMV bars and UV line, from the page's JSON element (CSP: no inline).
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("period-data");
  const el = document.getElementById("chart-period");
  if (!source || !el || typeof echarts === "undefined") return;
  const d = JSON.parse(source.textContent);
  const chart = echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { top: 0, data: [d.labels.gmv, d.labels.uv] },
    grid: { left: 64, right: 56, top: 36, bottom: 48 },
    xAxis: { type: "category", data: d.periods, axisLabel: { hideOverlap: true } },
    yAxis: [{ type: "value", name: d.labels.gmv }, { type: "value", name: d.labels.uv, minInterval: 1 }],
    series: [
      { name: d.labels.gmv, type: "bar", data: d.gmv },
      { name: d.labels.uv, type: "line", yAxisIndex: 1, data: d.uv },
    ],
  });
  window.addEventListener("resize", () => chart.resize());
});
