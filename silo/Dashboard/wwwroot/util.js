// Shared by the dashboard's modules: DOM building that never parses HTML, number formats, the API call.

export const $ = id => document.getElementById(id);

/** An element with properties and children; strings become text nodes, so nothing given here is parsed as HTML. */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null) continue;
    if (k === "className") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

/** JSON numbers of the API: NaN and ±∞ come as strings ("NaN", "Infinity"); a chart plots only finite values. */
export function num(v) {
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  return null;
}

export function fmt(v, digits = 3) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "string") return v; // "NaN", "Infinity"
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(digits);
}

export function ago(iso) {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return "";
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return new Date(t).toISOString().slice(0, 16).replace("T", " ");
}

/** A status as a CSS class: only the API's snake_case names, anything else gets no class. */
export function statusBadge(status, node) {
  const s = String(status || "unknown");
  node = node || el("span");
  node.className = "status" + (/^[a-z_]+$/.test(s) ? " status-" + s : "");
  node.textContent = s;
  return node;
}

export function notice(text) {
  const n = $("notice");
  n.textContent = text || "";
  n.hidden = !text;
}

export async function api(path, signal) {
  const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" }, signal });
  if (response.status === 401) { location.assign("/dashboard/login"); throw new Error("not logged in"); }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error((body && body.error && body.error.message) || `${path}: HTTP ${response.status}`);
  return body;
}


// What the browser test (tests/Orleans.Rft.Dashboard.Tests) reads back: the uPlot instances and the rows they plot.
export const state = { charts: {}, plotted: {}, metrics: [], job: null, route: null };
window.rftDashboard = state;
