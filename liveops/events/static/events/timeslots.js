// Time-slot heat map: 7 weekdays × 24 hours, data from the page's JSON element.
// No inline scripts (the CSP forbids them); strings come from the page, already translated.
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("timeslot-chart");
  const source = document.getElementById("timeslot-data");
  if (!el || !source || typeof echarts === "undefined") return;
  const data = JSON.parse(source.textContent);
  const text = data.text;
  const hours = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, "0"));
  const pad = (h) => String(h).padStart(2, "0");
  const sessionsText = (n) => (n === 1 ? text.one : text.many).replace("%(n)s", String(n));
  const fmt = (v) => (v === null ? "—" : v.toLocaleString(document.documentElement.lang || undefined, { maximumFractionDigits: 2 }));

  const known = new Set(data.cells.map((c) => `${c[0]}:${c[1]}`));
  const empty = [];
  for (let d = 0; d < 7; d += 1) {
    for (let h = 0; h < 24; h += 1) if (!known.has(`${h}:${d}`)) empty.push([h, d, 0]);
  }
  const values = data.cells.map((c) => c[2]).filter((v) => v !== null);
  const min = values.length ? Math.min(...values) : 0;
  const max = values.length ? Math.max(...values) : 1;
  const cells = data.cells.map((c) => ({
    value: [c[0], c[1], c[2], c[3], c[4]],
    itemStyle: c[4] ? { opacity: 0.45 } : undefined,
  }));

  const layout = () => {
    const narrow = el.clientWidth < 600;
    el.style.height = narrow ? "320px" : "360px";
    return {
      grid: { left: narrow ? 44 : 64, right: 8, top: 8, bottom: narrow ? 74 : 78 },
      xAxis: { axisLabel: { interval: narrow ? 2 : 0, fontSize: narrow ? 10 : 12 } },
      yAxis: { axisLabel: { fontSize: narrow ? 10 : 12 } },
      visualMap: { itemWidth: narrow ? 10 : 14, itemHeight: narrow ? 120 : 200 },
    };
  };
  const base = layout();
  const chart = echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    tooltip: {
      position: "top",
      confine: true,
      formatter: (p) => {
        const [h, d, v, n, tooLittle] = p.value;
        const slot = `${data.weekdays[d]} ${pad(h)}:00–${pad(h + 1)}:00`;
        if (p.seriesIndex === 0) return `${slot}<br>${text.noData}`;
        let out = `${slot}<br>${data.objective}: <b>${fmt(v)}</b><br>${sessionsText(n)}`;
        if (tooLittle) out += ` · ${text.tooLittle}`;
        return out;
      },
    },
    grid: base.grid,
    xAxis: { type: "category", data: hours, axisLabel: base.xAxis.axisLabel },
    yAxis: { type: "category", data: data.weekdays, inverse: true, axisLabel: base.yAxis.axisLabel },
    visualMap: {
      min,
      max: max === min ? min + 1 : max,
      dimension: 2,
      seriesIndex: 1,
      calculable: false,
      text: [fmt(max), fmt(min)],
      textGap: 6,
      orient: "horizontal",
      left: "center",
      bottom: 0,
      itemWidth: base.visualMap.itemWidth,
      itemHeight: base.visualMap.itemHeight,
      textStyle: { color: "#555" },
      inRange: { color: ["#fde7d9", "#f59e66", "#e8590c", "#9c2f00"] },
    },
    series: [
      {
        name: text.noData,
        type: "heatmap",
        data: empty,
        itemStyle: { color: "#e9ecef", borderColor: "#fff", borderWidth: 1 },
        emphasis: { disabled: true },
      },
      {
        name: data.objective,
        type: "heatmap",
        data: cells,
        itemStyle: { borderColor: "#fff", borderWidth: 1 },
        emphasis: { itemStyle: { borderColor: "#333", borderWidth: 1 } },
      },
    ],
  });
  let pending = null;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      const next = layout();
      chart.setOption({
        grid: next.grid,
        xAxis: { axisLabel: next.xAxis.axisLabel },
        yAxis: { axisLabel: next.yAxis.axisLabel },
        visualMap: { itemWidth: next.visualMap.itemWidth, itemHeight: next.visualMap.itemHeight },
      });
      chart.resize();
    }, 120);
  });
});
