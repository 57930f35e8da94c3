// The Orleans.Rft dashboard: one page over the jobs API (/v1/rft/jobs…), hash-routed:
//   #/            the jobs list (polled)
//   #/jobs/{id}   a job: its curves (uPlot), followed live through /v1/rft/jobs/{id}/events, and its rollouts
// Everything a model or a user wrote (completions, reasons, names, errors) reaches the page as text
// nodes (textContent), never as HTML; the silo's Content-Security-Policy runs no inline script either.
// Requests carry the login cookie (same origin) when the silo takes API keys: EventSource cannot send
// a Bearer header, so the event stream is read with fetch and parsed here.

import { $, el, fmt, ago, statusBadge, notice, api, state } from "./util.js";
import { drawCharts, resetCharts, resizeCharts } from "./charts.js";
import { loadRollouts, showRollout } from "./rollouts.js";

const JOBS_POLL_MS = 3000;
const RECONNECT_MS = 3000;

// ---------------------------------------------------------------- jobs list

let jobsTimer = null;

async function showJobs() {
  $("jobs-view").hidden = false;
  $("job-view").hidden = true;
  document.title = "Jobs · Orleans.Rft";
  await refreshJobs();
  jobsTimer = setInterval(refreshJobs, JOBS_POLL_MS);
}

async function refreshJobs() {
  let list;
  try { list = await api("/v1/rft/jobs"); notice(""); }
  catch (e) { notice(`Could not list jobs: ${e.message}`); return; }
  const rows = (list.data || []).map(job => {
    const total = job.total_steps || 0;
    const latest = job.latest || {};
    return el("tr", { "data-job-id": job.job_id },
      el("td", {}, el("a", { href: "#/jobs/" + encodeURIComponent(job.job_id), text: job.job_id })),
      el("td", { text: job.name }),
      el("td", {}, statusBadge(job.status)),
      el("td", {}, el("progress", { max: Math.max(total, 1), value: Math.min(job.step, total || job.step) }), ` ${job.step}/${total || "?"}`),
      el("td", { className: "num", text: fmt(latest.reward_mean) }),
      el("td", { className: "num", text: fmt(job.latest_eval_reward) }),
      el("td", { text: ago(job.submitted_at) }),
      el("td", { text: ago(job.updated_at) }));
  });
  $("jobs-body").replaceChildren(...rows);
  $("jobs-empty").hidden = rows.length > 0;
}


// ---------------------------------------------------------------- a job's page

/** New rows from the API; a step at or before the last one means the job rolled back to a checkpoint and runs it again. */
function addMetrics(rows) {
  for (const m of rows) {
    const at = state.metrics.findIndex(r => r.step >= m.step);
    if (at >= 0) state.metrics.length = at;
    state.metrics.push(m);
  }
}

function showSnapshot(job) {
  state.job = job;
  $("job-name").textContent = job.name || job.job_id;
  $("job-id").textContent = job.job_id;
  statusBadge(job.status, $("job-status"));
  document.title = `${job.name || job.job_id} · Orleans.Rft`;
  const total = job.total_steps || 0;
  $("job-progress").max = Math.max(total, 1);
  $("job-progress").value = Math.min(job.step, total || job.step);
  const latest = job.latest || {};
  const facts = [
    ["step", `${job.step}/${total || "?"}`], ["epoch", job.epoch], ["policy version", job.policy_version], ["trainers", job.trainers],
    ["reward", fmt(latest.reward_mean)], ["baseline eval", fmt(job.baseline_eval_reward)], ["latest eval", fmt(job.latest_eval_reward)],
    ["best eval", job.best_eval_reward === null || job.best_eval_reward === undefined ? "–" : `${fmt(job.best_eval_reward)} (step ${job.best_step})`],
    ["updated", ago(job.updated_at)],
  ];
  $("job-facts").replaceChildren(...facts.map(([k, v]) => el("div", {}, el("dt", { text: k }), el("dd", { text: String(v ?? "–") }))));
  $("job-error").hidden = !job.last_error;
  $("job-error").textContent = job.last_error || "";
  const events = (job.events || []).slice().reverse();
  $("job-events-box").hidden = events.length === 0;
  $("job-events").replaceChildren(...events.map(e => el("li", {}, el("span", { className: "muted", text: `step ${e.step} · ${e.kind} · ${ago(e.at)}: ` }), e.message)));
  const step = $("rollout-step");
  if (step.value === "" && job.latest) step.value = job.latest.step;
}

function setLive(text, on) {
  const n = $("job-live");
  n.textContent = text;
  n.classList.toggle("on", !!on);
}

/**
 * Follows /v1/rft/jobs/{id}/events: event `snapshot` (JobSnapshot), `metrics` ({"data": [StepMetrics…]}),
 * `end` (the final snapshot, then the stream closes). A dropped stream is resumed from the next step.
 */
async function follow(id, signal) {
  while (!signal.aborted) {
    const from = state.metrics.length ? state.metrics[state.metrics.length - 1].step + 1 : 0;
    let ended = false;
    try {
      const response = await fetch(`/v1/rft/jobs/${encodeURIComponent(id)}/events?from=${from}`,
        { credentials: "same-origin", headers: { Accept: "text/event-stream" }, signal });
      if (response.status === 401) { location.assign("/dashboard/login"); return; }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      setLive("live", true);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let event = "message", data = [];
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue; // heartbeat comment
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "event") event = val;
            else if (field === "data") data.push(val);
          }
          if (data.length === 0) continue;
          const payload = JSON.parse(data.join("\n"));
          if (event === "snapshot") showSnapshot(payload);
          else if (event === "metrics") { addMetrics(await withGapFilled(id, payload.data || [], signal)); drawCharts(); }
          else if (event === "end") { showSnapshot(payload); ended = true; }
          else if (event === "error") notice(`The job's event stream reported: ${(payload.error && payload.error.message) || "an error"}`);
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      setLive(`reconnecting (${e.message})`, false);
    }
    if (ended || (state.job && ["completed", "failed", "cancelled"].includes(state.job.status))) { setLive("ended", false); return; }
    await new Promise(r => setTimeout(r, RECONNECT_MS));
  }
}

/**
 * Rows that start past the next expected step (a stream that passed over a step, e.g. one whose snapshot
 * moved on before its metrics were kept) are completed from GET /metrics, so a curve never skips a step
 * the API has.
 */
async function withGapFilled(id, rows, signal) {
  const last = state.metrics.length ? state.metrics[state.metrics.length - 1].step : null;
  if (rows.length === 0 || last === null || rows[0].step <= last + 1) return rows;
  try {
    const missing = await api(`/v1/rft/jobs/${encodeURIComponent(id)}/metrics?from=${last + 1}`, signal);
    return (missing.data || []).filter(m => m.step < rows[0].step).concat(rows);
  } catch (e) {
    if (signal.aborted) throw e;
    return rows; // drawn with the gap; the next page load fills it
  }
}

let following = null;

async function showJob(id) {
  $("jobs-view").hidden = true;
  $("job-view").hidden = false;
  resetCharts();
  state.metrics = [];
  state.job = null;
  $("rollout-step").value = "";
  $("rollouts-best").replaceChildren();
  $("rollouts-worst").replaceChildren();
  $("rollout-detail").hidden = true;
  $("rollout-summary").textContent = "";
  setLive("", false);
  following = new AbortController();
  const signal = following.signal;
  try {
    showSnapshot(await api(`/v1/rft/jobs/${encodeURIComponent(id)}`, signal));
    const history = await api(`/v1/rft/jobs/${encodeURIComponent(id)}/metrics?from=0`, signal);
    addMetrics(history.data || []);
    drawCharts();
    notice("");
  } catch (e) {
    if (signal.aborted) return;
    notice(`Could not load job ${id}: ${e.message}`);
    return;
  }
  if (state.metrics.length > 0) loadRollouts(id, signal);
  follow(id, signal);
}

// ---------------------------------------------------------------- routing

function route() {
  if (jobsTimer) { clearInterval(jobsTimer); jobsTimer = null; }
  if (following) { following.abort(); following = null; }
  const match = /^#\/jobs\/(.+)$/.exec(location.hash);
  state.route = match ? { job: decodeURIComponent(match[1]) } : { jobs: true };
  if (match) showJob(state.route.job); else showJobs();
}

state.showRollout = showRollout; // the test renders crafted rollouts (markup in every model-written field, agent turns) with it
window.addEventListener("hashchange", route);
window.addEventListener("resize", resizeCharts);
$("rollout-form").addEventListener("submit", e => {
  e.preventDefault();
  if (state.route && state.route.job) loadRollouts(state.route.job, following && following.signal);
});
api("/dashboard/session").then(s => { $("logout").hidden = !s.keys_required; }).catch(() => {});
route();