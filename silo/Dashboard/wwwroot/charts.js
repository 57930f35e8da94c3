// A job's curves, drawn with uPlot (bundled into the silo at build time; the global `uPlot`).

import { $, el, num, fmt, state } from "./util.js";

const COLORS = ["#2457c5", "#e8590c", "#1f9d45", "#9c36b5", "#c92a2a", "#0b7285", "#5c940d", "#862e9c", "#364fc7", "#d9480f"];

/**
 * The charts: each series reads one field of a StepMetrics row. Stacked series (the step-time breakdown)
 * are drawn as cumulative areas, their legend shows each phase's own seconds.
 */
const CHARTS = [
  { id: "reward", title: "Reward", series: [
    { label: "reward mean", get: m => m.reward_mean },
    { label: "reward mean − std", get: m => num(m.reward_mean) === null ? null : m.reward_mean - m.reward_std, dash: [4, 4] },
    { label: "reward mean + std", get: m => num(m.reward_mean) === null ? null : m.reward_mean + m.reward_std, dash: [4, 4] },
    { label: "eval reward", get: m => m.eval_reward_mean, points: true }] },
  { id: "kl", title: "KL to the reference", series: [{ label: "kl", get: m => m.kl }] },
  { id: "clip", title: "Clip fraction", series: [{ label: "clip fraction", get: m => m.clip_fraction }] },
  { id: "invalid", title: "Invalid scores", series: [
    { label: "invalid fraction (1 − valid)", get: m => num(m.valid_fraction) === null ? null : 1 - m.valid_fraction },
    { label: "evaluator errors + timeouts", get: m => (m.evaluator_errors || 0) + (m.evaluator_timeouts || 0), scale: "count" }] },
  { id: "lag", title: "Policy lag (versions)", series: [{ label: "policy lag", get: m => m.policy_lag }] },
  { id: "tps", title: "Tokens per second", series: [
    { label: "rollout tokens/s", get: m => m.rollout_tokens_per_second },
    { label: "train tokens/s", get: m => m.train_tokens_per_second }] },
  { id: "time", title: "Step time (s)", stacked: true, series: [
    { label: "rollout", get: m => m.rollout_seconds },
    { label: "evaluation", get: m => m.evaluation_seconds },
    { label: "training", get: m => m.train_seconds },
    { label: "sync", get: m => m.sync_seconds }],
    line: { label: "step total", get: m => m.step_seconds } },
];

/** The reward's own metrics (metric_means: names as the user's evaluator wrote them), one series each. */
function userChart(rows) {
  const names = [...new Set(rows.flatMap(m => Object.keys(m.metric_means || {})))].sort();
  return { id: "user", title: "Evaluator metrics (means)", names, series: names.map(n => ({ label: n, get: m => (m.metric_means || {})[n] })) };
}

/** uPlot's data for a chart over rows: [steps, series…]; raw keeps each series' own values (what the legend and the test read). */
function chartData(def, rows) {
  const x = rows.map(m => m.step);
  const raw = def.series.map(s => rows.map(m => num(s.get(m))));
  let plotted = raw;
  if (def.stacked) {
    const sums = rows.map(() => 0);
    plotted = raw.map(values => values.map((v, i) => (sums[i] += v || 0)));
    plotted = plotted.slice().reverse(); // the largest sum first, so each smaller area is painted over it
    if (def.line) plotted.push(rows.map(m => num(def.line.get(m))));
  }
  return { x, raw, data: [x, ...plotted] };
}

function chartSeries(def) {
  const list = def.stacked ? def.series.slice().reverse() : def.series;
  const series = list.map((s, i) => {
    const color = COLORS[(def.stacked ? list.length - 1 - i : i) % COLORS.length];
    const out = { label: s.label, stroke: color, width: 1.5, scale: s.scale || "y", spanGaps: !!s.points };
    if (s.dash) out.dash = s.dash;
    if (s.points) { out.width = 0; out.points = { show: true, size: 7, fill: color }; }
    if (def.stacked) {
      out.fill = color + "55";
      const own = def.series.length - 1 - i; // this series' index in raw order
      out.value = (u, v, si, idx) => idx === null || idx === undefined ? "–" : fmt(state.plotted[def.id].raw[own][idx]);
    }
    return out;
  });
  if (def.stacked && def.line) series.push({ label: def.line.label, stroke: "#1d2330", width: 1.5, dash: [6, 3] });
  return series;
}

function chartWidth(box) { return Math.max(300, box.clientWidth - 12); }

/** 12000 → "12k": axis labels that fit the axis. */
function compact(v) {
  if (v === null || v === undefined) return "";
  const a = Math.abs(v);
  if (a >= 1e6) return +(v / 1e6).toFixed(2) + "M";
  if (a >= 1e4) return +(v / 1e3).toFixed(1) + "k";
  return +v.toFixed(4) + "";
}

/** A y range with some room; a flat series (KL of 0 while the policy has not moved) gets a small band around it, not 0–100. */
function yRange(u, min, max) {
  if (min === null || max === null) return [0, 1];
  if (min === max) { const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.5 : 1; return [min >= 0 && min - pad < 0 ? 0 : min - pad, max + pad]; }
  return uPlot.rangeNum(min, max, 0.1, true);
}

function drawChart(def, rows) {
  const box = $("chart-" + def.id) || $("charts").appendChild(el("div", { className: "chart", id: "chart-" + def.id }, el("h3", { text: def.title })));
  const data = chartData(def, rows);
  state.plotted = state.plotted || {};
  state.plotted[def.id] = { steps: data.x, raw: data.raw, labels: def.series.map(s => s.label) };
  const existing = state.charts[def.id];
  const sameShape = existing && existing._rftNames === JSON.stringify(def.series.map(s => s.label));
  if (sameShape) { existing.setData(data.data); return; }
  if (existing) existing.destroy();
  box.querySelectorAll(".empty").forEach(n => n.remove());
  if (def.series.length === 0) { box.append(el("p", { className: "empty", text: "the evaluator reports no metrics of its own" })); delete state.charts[def.id]; return; }
  const yAxis = (scale, side) => ({ scale, side, size: 56, values: (u, splits) => splits.map(compact), grid: { show: side === 3 } });
  const axes = [{ label: "step" }, yAxis("y", 3)];
  if (def.series.some(s => s.scale === "count")) axes.push(yAxis("count", 1));
  const chart = new uPlot({
    width: chartWidth(box), height: 220,
    scales: { x: { time: false }, y: { range: yRange }, count: { range: yRange } },
    series: [{ label: "step" }, ...chartSeries(def)],
    axes,
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
  }, data.data, box);
  chart._rftNames = JSON.stringify(def.series.map(s => s.label));
  state.charts[def.id] = chart;
}

export function drawCharts() {
  const rows = state.metrics;
  for (const def of CHARTS) drawChart(def, rows);
  drawChart(userChart(rows), rows);
}


/** Removes every chart (another job's page is opening). */
export function resetCharts() {
  $("charts").replaceChildren();
  for (const c of Object.values(state.charts)) c.destroy();
  state.charts = {};
  state.plotted = {};
}

export function resizeCharts() {
  for (const [id, chart] of Object.entries(state.charts)) chart.setSize({ width: chartWidth($("chart-" + id)), height: 220 });
}
