// The Orleans.Rft dashboard: one page over the jobs API (/v1/rft/jobs…), hash-routed:
//   #/            the jobs list (polled)
//   #/jobs/{id}   a job: its curves (uPlot), followed live through /v1/rft/jobs/{id}/events, and its rollouts
// Everything a model or a user wrote (completions, reasons, names, errors) reaches the page as text
// nodes (textContent), never as HTML; the silo's Content-Security-Policy runs no inline script either.
// Requests carry the login cookie (same origin) when the silo takes API keys: EventSource cannot send
// a Bearer header, so the event stream is read with fetch and parsed here.
"use strict";

(() => {
  const JOBS_POLL_MS = 3000;
  const RECONNECT_MS = 3000;
  const COLORS = ["#2457c5", "#e8590c", "#1f9d45", "#9c36b5", "#c92a2a", "#0b7285", "#5c940d", "#862e9c", "#364fc7", "#d9480f"];

  const $ = id => document.getElementById(id);

  /** An element with properties and children; strings become text nodes, so nothing given here is parsed as HTML. */
  function el(tag, props, ...children) {
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
  function num(v) {
    if (typeof v === "number") return Number.isFinite(v) ? v : null;
    return null;
  }

  function fmt(v, digits = 3) {
    if (v === null || v === undefined) return "–";
    if (typeof v === "string") return v; // "NaN", "Infinity"
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(digits);
  }

  function ago(iso) {
    const t = Date.parse(iso);
    if (!Number.isFinite(t)) return "";
    const s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 60) return `${s}s ago`;
    if (s < 3600) return `${Math.round(s / 60)}m ago`;
    if (s < 86400) return `${Math.round(s / 3600)}h ago`;
    return new Date(t).toISOString().slice(0, 16).replace("T", " ");
  }

  /** A status as a CSS class: only the API's snake_case names, anything else gets no class. */
  function statusBadge(status, node) {
    const s = String(status || "unknown");
    node = node || el("span");
    node.className = "status" + (/^[a-z_]+$/.test(s) ? " status-" + s : "");
    node.textContent = s;
    return node;
  }

  function notice(text) {
    const n = $("notice");
    n.textContent = text || "";
    n.hidden = !text;
  }

  async function api(path, signal) {
    const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" }, signal });
    if (response.status === 401) { location.assign("/dashboard/login"); throw new Error("not logged in"); }
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error((body && body.error && body.error.message) || `${path}: HTTP ${response.status}`);
    return body;
  }

  // What the browser test (tests/Orleans.Rft.Dashboard.Tests) reads back: the uPlot instances and the rows they plot.
  const state = { charts: {}, metrics: [], job: null, route: null };
  window.rftDashboard = state;

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

  function drawCharts() {
    const rows = state.metrics;
    for (const def of CHARTS) drawChart(def, rows);
    drawChart(userChart(rows), rows);
  }

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
    $("charts").replaceChildren();
    for (const c of Object.values(state.charts)) c.destroy();
    state.charts = {};
    state.plotted = {};
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
    if (state.metrics.length > 0) loadRollouts(id);
    follow(id, signal);
  }

  // ---------------------------------------------------------------- rollout browser

  async function loadRollouts(id) {
    const step = parseInt($("rollout-step").value, 10);
    const k = Math.min(20, Math.max(1, parseInt($("rollout-k").value, 10) || 3));
    const query = new URLSearchParams({ best: k, worst: k });
    // the input counts like the charts (trained steps, from 1); the rollout log counts the steps that produced them, from 0
    if (Number.isInteger(step) && step >= 1) query.set("step", step - 1);
    let page;
    try { page = await api(`/v1/rft/jobs/${encodeURIComponent(id)}/rollouts?${query}`, following && following.signal); }
    catch (e) { $("rollout-summary").textContent = `Could not read rollouts: ${e.message}`; return; }
    const data = page.data || [];
    $("rollout-step").value = page.step + 1;
    $("rollout-summary").textContent = `step ${page.step + 1}: the ${page.total} rollouts it trained on` + (page.scanned !== undefined && page.scanned !== null && page.scanned < page.total ? ` (ranked the first ${page.scanned})` : "");
    const best = data.slice().sort((a, b) => b.reward - a.reward).slice(0, k);
    const worst = data.slice().sort((a, b) => a.reward - b.reward).slice(0, k);
    $("rollouts-best").replaceChildren(...best.map((r, i) => rolloutItem(r, `best ${i + 1}`)));
    $("rollouts-worst").replaceChildren(...worst.map((r, i) => rolloutItem(r, `worst ${i + 1}`)));
    $("rollout-detail").hidden = true;
  }

  function rolloutItem(r, rank) {
    const button = el("button", { type: "button", "aria-pressed": "false", "data-rank": rank, onclick: () => {
      document.querySelectorAll(".rollout-list button").forEach(b => b.setAttribute("aria-pressed", "false"));
      button.setAttribute("aria-pressed", "true");
      showRollout(r, rank);
    } },
      el("span", { className: "reward", text: fmt(r.reward) }),
      ` row ${r.row} · sample ${r.sample} · ${rank}`,
      r.is_score_valid ? null : el("span", { className: "invalid", text: "invalid score" }),
      el("span", { className: "why", text: r.reason || "" }));
    return el("li", {}, button);
  }

  /** A message's content as text: a string, or OpenAI content parts (their text; other parts named by type). */
  function contentText(content) {
    if (content === null || content === undefined) return "";
    if (typeof content === "string") return content;
    if (Array.isArray(content)) return content.map(p => (p && typeof p.text === "string") ? p.text : `[${p && p.type}]`).join("\n");
    return JSON.stringify(content);
  }

  function showRollout(r, rank) {
    const box = $("rollout-detail");
    const metrics = Object.entries(r.metrics || {});
    const parts = [
      el("h3", { text: `${rank}: step ${r.step + 1}, row ${r.row}, sample ${r.sample}` }),
      el("table", {}, el("tbody", {},
        [["reward", fmt(r.reward)], ["score valid", r.is_score_valid ? "yes" : "no"], ["advantage", fmt(r.advantage)],
         ["finish reason", r.finish_reason], ["policy version", r.policy_version], ["completion tokens", (r.completion_ids || []).length]]
          .map(([k, v]) => el("tr", {}, el("td", { className: "muted", text: k }), el("td", { text: String(v) }))))),
      el("h3", { text: "Reason" }), el("pre", { className: "reason", text: r.reason || "" }),
    ];
    if (metrics.length) parts.push(el("h3", { text: "Metrics" }), el("table", { className: "metrics" }, el("tbody", {},
      metrics.map(([k, v]) => el("tr", {}, el("td", { className: "muted", text: k }), el("td", { text: fmt(v) }))))));
    if (r.agent) {
      const a = r.agent;
      parts.push(el("h3", { text: "Agent" }), el("p", { text: `${a.model_calls} model calls, ${a.tool_calls} tool calls, ${a.tool_errors} tool errors` +
        (a.failure_kind ? ` · failed (${a.failure_kind}): ${a.failure || ""}` : "") }));
      let turns = [];
      try { turns = JSON.parse(a.messages_json || "[]"); } catch { turns = []; }
      parts.push(el("h3", { text: `Turns (${turns.length})` }), el("div", { className: "turns" }, turns.map(turn)));
    }
    parts.push(el("h3", { text: "Completion" }), el("pre", { className: "completion", text: r.completion || "" }));
    box.replaceChildren(...parts);
    box.hidden = false;
  }

  function turn(m) {
    const role = String((m && m.role) || "?");
    const calls = (m && Array.isArray(m.tool_calls)) ? m.tool_calls : [];
    return el("div", { className: "turn turn-" + (/^[a-z]+$/.test(role) ? role : "other") },
      el("div", { className: "role", text: role + (m && m.tool_call_id ? ` (${m.tool_call_id})` : "") }),
      el("pre", { text: contentText(m && m.content) }),
      calls.map(c => el("pre", { className: "tool-call", text: `→ ${c.function ? c.function.name : "?"}(${c.function ? (typeof c.function.arguments === "string" ? c.function.arguments : JSON.stringify(c.function.arguments)) : ""})` })));
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
  window.addEventListener("resize", () => {
    for (const [id, chart] of Object.entries(state.charts)) chart.setSize({ width: chartWidth($("chart-" + id)), height: 220 });
  });
  $("rollout-form").addEventListener("submit", e => {
    e.preventDefault();
    if (state.route && state.route.job) loadRollouts(state.route.job);
  });
  api("/dashboard/session").then(s => { $("logout").hidden = !s.keys_required; }).catch(() => {});
  route();
})();
