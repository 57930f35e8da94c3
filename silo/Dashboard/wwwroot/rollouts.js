// The rollout browser: the best and worst rollouts of a step, one opened with its text, metrics and agent turns.
// Every string here was written by a model, a tool or an evaluator: text nodes only.

import { $, el, fmt, api } from "./util.js";

export async function loadRollouts(id, signal) {
  const step = parseInt($("rollout-step").value, 10);
  const k = Math.min(20, Math.max(1, parseInt($("rollout-k").value, 10) || 3));
  const query = new URLSearchParams({ best: k, worst: k });
  // the input counts like the charts (trained steps, from 1); the rollout log counts the steps that produced them, from 0
  if (Number.isInteger(step) && step >= 1) query.set("step", step - 1);
  let page;
  try { page = await api(`/v1/rft/jobs/${encodeURIComponent(id)}/rollouts?${query}`, signal); }
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

export function showRollout(r, rank) {
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