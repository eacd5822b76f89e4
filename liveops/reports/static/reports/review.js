// Review charts (ECharts), drawn from the page's JSON element; no inline script (CSP).
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("review-data");
  if (!source || typeof echarts === "undefined") return;
  const d = JSON.parse(source.textContent);
  const L = d.labels;
  const tz = d.tz;
  const hm = (ms) => new Date(ms).toLocaleTimeString(document.documentElement.lang || undefined, { hour: "2-digit", minute: "2-digit", timeZone: tz, hour12: false });
  const charts = [];
  const draw = (id, option) => {
    const el = document.getElementById(id);
    if (!el) return;
    const chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(Object.assign({ animation: false, grid: { left: 48, right: 16, top: 36, bottom: 36 } }, option));
    charts.push(chart);
  };
  const times = d.minutes;
  const axis = { type: "category", data: times.map(hm), boundaryGap: false };
  const bands = d.segments.map((s, i) => [
    { name: s.title, xAxis: hm(s.start), itemStyle: { color: i % 2 ? "rgba(59,130,246,0.06)" : "rgba(59,130,246,0.14)" } },
    { xAxis: hm(s.end) },
  ]);
  const cues = d.cues.map((c) => ({ name: c.label, xAxis: hm(c.at) }));
  draw("chart-online", {
    tooltip: { trigger: "axis" },
    legend: { data: [L.online] },
    xAxis: axis,
    yAxis: { type: "value", minInterval: 1 },
    series: [{
      name: L.online, type: "line", showSymbol: false, data: d.online, lineStyle: { width: 2 },
      markArea: { silent: true, label: { show: true, position: "insideTop", fontSize: 10, color: "#475569" }, data: bands },
      markLine: { symbol: "none", silent: true, label: { show: false }, lineStyle: { type: "dashed", color: "#f59e0b" }, data: cues },
    }],
  });
  draw("chart-flow", {
    tooltip: { trigger: "axis" }, legend: { data: [L.entries, L.exits] },
    xAxis: Object.assign({}, axis, { boundaryGap: true }), yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: L.entries, type: "bar", data: d.entries, itemStyle: { color: "#16a34a" } },
      { name: L.exits, type: "bar", data: d.exits.map((v) => -v), itemStyle: { color: "#dc2626" } },
    ],
  });
  draw("chart-retention", {
    tooltip: { trigger: "axis", valueFormatter: (v) => (v === null ? "—" : (v * 100).toFixed(1) + "%") },
    xAxis: { type: "category", data: d.retention.map((_, i) => i + 1), name: L.minute },
    yAxis: { type: "value", min: 0, max: 1, axisLabel: { formatter: (v) => v * 100 + "%" } },
    series: [{ name: L.retention, type: "line", data: d.retention, showSymbol: false, areaStyle: { opacity: 0.15 } }],
  });
  draw("chart-interaction", {
    tooltip: { trigger: "axis" }, legend: { data: [L.comments, L.likes] },
    xAxis: axis, yAxis: [{ type: "value", minInterval: 1 }, { type: "value", minInterval: 1 }],
    series: [
      { name: L.comments, type: "line", showSymbol: false, data: d.comments },
      { name: L.likes, type: "line", showSymbol: false, yAxisIndex: 1, data: d.likes },
    ],
  });
  draw("chart-funnel", {
    tooltip: { trigger: "item" },
    series: [{ type: "funnel", sort: "none", left: "10%", width: "80%", label: { formatter: "{b}: {c}" }, data: d.funnel.map((f) => ({ name: f.label, value: f.count })) }],
  });
  draw("chart-sources", {
    tooltip: { trigger: "item" },
    series: [{ type: "pie", radius: ["35%", "65%"], data: d.sources.map((s) => ({ name: s.source, value: s.entries })) }],
  });
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
});
