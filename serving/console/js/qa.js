// QA workbench: the review queue (keyboard-first), audit jobs with live progress, the daily report.

import { api, download } from "./api.js";
import { FLAGS, FUNNELS, t, label } from "./i18n.js";
import { colorOf, stackedBars, stackedColumns } from "./charts.js";
import {
  clear, errorBox, field, flagBadge, fmtPct, fmtSeconds, fmtTime, h, messageBody, notAvailable, select, spinner, stageTag,
  toast, today, typing,
} from "./ui.js";

const REP_FLAGS = ["insult", "side_order", "false_promise", "privacy"]; // which sender a flag may be raised on
const PAGE = 50;

// A date picked in the page means that day where the user is: send it as an instant.
function localMidnight(date, plusDays = 0) {
  const d = new Date(`${date}T00:00:00`);
  d.setDate(d.getDate() + plusDays);
  return d.toISOString();
}

// ---- review queue ----------------------------------------------------------------------

export function mountQueue(root, ctx) {
  const canReview = ["qa", "admin"].includes(ctx.me.role);
  const filters = { status: "open", flag: "", rep_id: "", since: "", min_score: "" };
  const state = { items: [], total: 0, index: 0, loading: false };
  let alive = true;

  const flagSel = select([["", t("qa.allFlags")], ...FLAGS.map((f) => [f, label("flag", f)])], "", { name: "flag" });
  const statusSel = select(["open", "confirmed", "dismissed"].map((s) => [s, label("status", s)]), "open", { name: "status" });
  const repIn = h("input", { name: "rep_id", placeholder: "rep-007", size: 10 });
  const sinceIn = h("input", { name: "since", type: "date" });
  const scoreIn = h("input", { name: "min_score", type: "number", min: 0, max: 1, step: 0.05, placeholder: "0.5" });
  const filterForm = h("form.filters", { onsubmit: (e) => { e.preventDefault(); applyFilters(); } },
    field(t("qa.status"), statusSel), field(t("qa.flag"), flagSel), field(t("qa.rep"), repIn),
    field(t("qa.since"), sinceIn), field(t("qa.minScore"), scoreIn),
    h("button.primary", { type: "submit" }, t("common.apply")));
  for (const el of [flagSel, statusSel, sinceIn]) el.addEventListener("change", applyFilters);

  const listEl = h("div.queue-list", { role: "listbox", "aria-label": t("qa.queue") });
  const detail = h("section.queue-detail");
  const countEl = h("span.count");
  clear(root,
    h("div.page-head", h("h1", t("nav.qa")), countEl,
      h("p.shortcuts.muted", canReview ? t("qa.shortcuts") : t("qa.readOnly"))),
    filterForm,
    h("div.queue-layout", listEl, detail));

  function applyFilters() {
    Object.assign(filters, {
      status: statusSel.value, flag: flagSel.value, rep_id: repIn.value.trim(),
      since: sinceIn.value ? localMidnight(sinceIn.value) : "", min_score: scoreIn.value,
    });
    load(0);
  }

  async function load(offset = 0) {
    state.loading = true;
    if (!offset) clear(listEl, spinner());
    try {
      const data = await api("/v1/flags", { params: { ...filters, limit: PAGE, offset } });
      if (!alive) return;
      state.items = offset ? [...state.items, ...data.items] : data.items;
      state.total = data.total;
      if (!offset) state.index = 0;
      // An alert's link (#/qa/<id>) opens that flag even when it is not on the first page.
      if (ctx.param && !offset) await focusLinked(Number(ctx.param));
      renderList();
      renderDetail();
    } catch (e) {
      errorBox(listEl, e);
      clear(detail);
      countEl.textContent = "";
    } finally {
      state.loading = false;
    }
  }

  async function focusLinked(id) {
    let at = state.items.findIndex((x) => x.id === id);
    if (at < 0) {
      try {
        state.items.unshift(await api(`/v1/flags/${id}`));
        at = 0;
      } catch {
        return;
      }
    }
    state.index = at;
  }

  function renderList() {
    countEl.textContent = `${state.total}`;
    if (!state.items.length) return clear(listEl, h("p.muted.pad", t("qa.empty")));
    clear(listEl, state.items.map((item, i) =>
      h("button.queue-item", {
        class: [i === state.index ? "active" : "", item.status].join(" "), role: "option", "aria-selected": String(i === state.index),
        dataset: { id: item.id }, onclick: () => select_(i),
      },
      h("div.queue-item-top", flagBadge(item.flag, item.score), h("span.severity", { dataset: { level: item.severity } }, "●".repeat(item.severity)),
        h("span.muted.small", item.rep_id || "")),
      h("div.queue-item-text", item.message_text),
      h("div.muted.tiny", `${item.chat_id} · ${fmtTime(item.message_ts || item.created_at)}`))),
    state.items.length < state.total && h("button.ghost.more", { onclick: () => load(state.items.length) }, t("common.more")));
  }

  function select_(i) {
    closeMissed(); // its message list belongs to the item it was opened on
    state.index = Math.max(0, Math.min(i, state.items.length - 1));
    for (const [n, el] of [...listEl.querySelectorAll(".queue-item")].entries()) {
      el.classList.toggle("active", n === state.index);
      el.setAttribute("aria-selected", String(n === state.index));
      if (n === state.index) el.scrollIntoView({ block: "nearest" });
    }
    renderDetail();
  }

  const comment = h("input.comment", { placeholder: t("qa.comment"), "aria-label": t("qa.comment") });

  function renderDetail() {
    const item = state.items[state.index];
    if (!item) return clear(detail, h("div.empty", h("p", t("qa.nothingSelected"))));
    const spans = item.evidence ? [{ ...item.evidence, flag: item.flag }] : [];
    clear(detail,
      h("div.panel-head", h("h2", flagBadge(item.flag, item.score), " ", h("span.muted", item.chat_id)),
        h("span.tag.status", { dataset: { status: item.status } }, label("status", item.status))),
      h("div.context", item.context.map((m) => {
        const isTarget = m.id === item.message_id;
        return h("div.msg", { class: [m.sender, isTarget ? "target" : ""].join(" "), dataset: { id: m.id } },
          h("div.msg-meta", stageTag(m.stage), (m.flags || []).map((f) => flagBadge(f)), h("span.muted.small", fmtTime(m.ts))),
          h("div.bubble", messageBody(m, isTarget ? spans : null)));
      })),
      item.evidence && h("p.evidence.small", t("qa.evidence"), ": ", h("mark", item.evidence.text),
        item.evidence.source && h("span.muted", ` (${item.evidence.source})`)),
      item.reviews.length > 0 && h("ul.reviews", item.reviews.map((r) =>
        h("li", h("strong", label("verdict", r.verdict)), ` · ${r.reviewer} · ${fmtTime(r.created_at)}`, r.comment && ` — ${r.comment}`))),
      canReview && h("div.review-bar", comment,
        h("button.ok", { onclick: () => review("confirmed") }, h("kbd", "c"), " ", t("qa.confirm")),
        h("button.danger", { onclick: () => review("dismissed") }, h("kbd", "d"), " ", t("qa.dismiss")),
        h("button.ghost", { onclick: () => openMissed() }, h("kbd", "a"), " ", t("qa.addMissed"))),
      missedForm);
  }

  async function review(verdict) {
    const item = state.items[state.index];
    if (!item || !canReview) return;
    try {
      const updated = await api(`/v1/flags/${item.id}/review`, { method: "POST", body: { verdict, comment: comment.value.trim() } });
      comment.value = "";
      toast(t("qa.reviewed", { verdict: label("status", verdict) }), "ok");
      // Reviewed items leave a queue filtered by status; the next one is selected at once.
      if (filters.status && filters.status !== updated.status) {
        state.items.splice(state.index, 1);
        state.total -= 1;
        state.index = Math.min(state.index, state.items.length - 1);
      } else {
        state.items[state.index] = updated;
      }
      renderList();
      renderDetail();
    } catch (e) {
      toast(e.message, "error");
    }
  }

  // ---- add a flag the model missed ----
  const missedForm = h("form.missed", { hidden: true });

  // Closing hands the keyboard back to the queue (focus left in a hidden field would swallow j/k/c/d).
  function closeMissed() {
    missedForm.hidden = true;
    if (missedForm.contains(document.activeElement)) document.activeElement.blur();
  }

  function openMissed() {
    const item = state.items[state.index];
    if (!item || !canReview) return;
    const msgSel = select(item.context.map((m) => [m.id, `${label("sender", m.sender)}：${m.text.slice(0, 40)}`]), item.message_id, { name: "message" });
    const flagSel_ = h("select", { name: "flag" });
    const note = h("input", { name: "comment", placeholder: t("qa.comment") });
    // Only the flags the contract allows on that sender's messages (complaint: customer; the rest: rep).
    const fillFlags = () => {
      const sender = item.context.find((m) => m.id === msgSel.value)?.sender;
      const allowed = FLAGS.filter((f) => (sender === "customer") !== REP_FLAGS.includes(f));
      clear(flagSel_, allowed.map((f) => h("option", { value: f }, label("flag", f))));
    };
    msgSel.addEventListener("change", fillFlags);
    fillFlags();
    missedForm.hidden = false;
    clear(missedForm, h("h3", t("qa.addMissed")), field(t("qa.message"), msgSel), field(t("qa.flag"), flagSel_), field(t("qa.comment"), note),
      h("div.row", h("button.primary", { type: "submit" }, t("common.save")),
        h("button.ghost", { type: "button", onclick: closeMissed }, t("common.cancel"))));
    missedForm.onsubmit = async (e) => {
      e.preventDefault();
      try {
        await api("/v1/flags", { method: "POST", body: { chat_id: item.chat_id, message_id: msgSel.value, flag: flagSel_.value, comment: note.value.trim() } });
        closeMissed();
        toast(t("qa.missedAdded"), "ok");
      } catch (err) {
        toast(err.message, "error");
      }
    };
    msgSel.focus();
  }

  function onKey(e) {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) {
      if (e.key === "Escape") { // out of the comment box (or the form) and back to the shortcuts
        closeMissed();
        document.activeElement?.blur?.();
      }
      return;
    }
    const actions = {
      j: () => select_(state.index + 1), ArrowDown: () => select_(state.index + 1),
      k: () => select_(state.index - 1), ArrowUp: () => select_(state.index - 1),
      c: () => review("confirmed"), d: () => review("dismissed"), a: () => openMissed(),
      Escape: closeMissed,
    };
    if (actions[e.key]) {
      e.preventDefault();
      actions[e.key]();
    }
  }
  document.addEventListener("keydown", onKey);

  load(0);
  return {
    dispose() {
      alive = false;
      document.removeEventListener("keydown", onKey);
    },
  };
}

// ---- audits ----------------------------------------------------------------------------

export function mountAudits(root) {
  let alive = true;
  let timer = null;
  const since = h("input", { type: "date", name: "since" });
  const until = h("input", { type: "date", name: "until" });
  const reps = h("input", { name: "rep_ids", placeholder: "rep-001, rep-002" });
  const chats = h("input", { name: "chat_ids", placeholder: "chat-1, chat-2" });
  const live = h("section.card.audit-live", { hidden: true });
  const history = h("section.card");
  const form = h("form.card.audit-form", { onsubmit: (e) => { e.preventDefault(); start(); } },
    h("h2", t("audit.new")), h("p.muted.small", t("audit.hint")),
    h("div.grid-2", field(t("audit.since"), since), field(t("audit.until"), until),
      field(t("audit.reps"), reps), field(t("audit.chats"), chats)),
    h("button.primary", { type: "submit" }, t("audit.start")));
  clear(root, h("div.page-head", h("h1", t("nav.audits"))), h("div.audit-layout", form, live), history);

  const ids = (s) => s.split(/[\s,，]+/).map((x) => x.trim()).filter(Boolean);

  async function start() {
    const body = {};
    if (since.value) body.since = localMidnight(since.value);
    if (until.value) body.until = localMidnight(until.value, 1); // the whole of that day
    if (ids(reps.value).length) body.rep_ids = ids(reps.value);
    if (ids(chats.value).length) body.chat_ids = ids(chats.value);
    try {
      const job = await api("/v1/audits", { method: "POST", body });
      toast(t("audit.started", { total: job.total ?? "?" }), "ok");
      watch(job.id);
    } catch (e) {
      if (!e.unavailable) return toast(e.message, "error");
      live.hidden = false;
      notAvailable(live);
    }
  }

  // Poll until the job ends; the bar, rate and ETA update in place.
  function watch(id) {
    clearTimeout(timer);
    live.hidden = false;
    const bar = h("div.progress-fill");
    const text = h("div.progress-text");
    const meta = h("div.muted.small.progress-meta");
    const summary = h("div.audit-summary");
    clear(live, h("h2", t("audit.job"), " ", h("code", id)),
      h("div.progress", { role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100 }, bar), text, meta, summary);
    const tick = async () => {
      if (!alive) return;
      try {
        const job = await api(`/v1/audits/${encodeURIComponent(id)}`);
        const pct = job.total ? Math.round((job.done / job.total) * 100) : job.status === "done" ? 100 : 0;
        bar.style.width = `${pct}%`;
        bar.parentElement.setAttribute("aria-valuenow", pct);
        bar.dataset.status = job.status;
        live.dataset.status = job.status;
        text.textContent = `${label("job", job.status)} · ${job.done}/${job.total} (${pct}%)`;
        meta.textContent = [job.rate ? t("audit.rate", { rate: job.rate }) : "",
          job.eta_seconds != null ? t("audit.eta", { eta: fmtSeconds(job.eta_seconds) }) : "", job.error || ""].filter(Boolean).join(" · ");
        if (job.status === "done" || job.status === "failed") {
          if (job.summary) renderSummary(summary, job.summary);
          loadHistory();
          return;
        }
      } catch (e) {
        if (e.status === 401) return;
        meta.textContent = e.message;
      }
      timer = setTimeout(tick, 700);
    };
    tick();
  }

  function renderSummary(el, s) {
    const funnel = Object.entries(s.funnel || {});
    const flags = Object.entries(s.flagged_messages || {});
    clear(el,
      h("div.kv", h("span", t("audit.funnel")), h("span", funnel.length ? funnel.map(([k, v]) => `${label("funnel", k)} ${v}`).join(" · ") : "—")),
      h("div.kv", h("span", t("audit.flags")), h("span", flags.length ? flags.map(([k, v]) => `${label("flag", k)} ${v}`).join(" · ") : "—")),
      (s.errors || []).length > 0 && h("div.kv", h("span", t("audit.errors")), h("span.error", s.errors.length)),
      h("a", { href: "#/qa" }, t("audit.toQueue") + " →"));
  }

  async function loadHistory() {
    try {
      const data = await api("/v1/audits", { params: { limit: 10 } });
      if (!alive) return;
      clear(history, h("h2", t("audit.recent")),
        data.items.length ? h("table.table", h("thead", h("tr", [t("audit.job"), t("audit.status"), t("audit.progress"), t("audit.created")].map((x) => h("th", x)))),
          h("tbody", data.items.map((j) => h("tr", { onclick: () => watch(j.id), class: "clickable" },
            h("td", h("code", j.id.slice(0, 8))), h("td", h("span.tag.job", { dataset: { status: j.status } }, label("job", j.status))),
            h("td", `${j.done}/${j.total}`), h("td", fmtTime(j.created_at))))))
          : h("p.muted", t("audit.none")));
    } catch (e) {
      errorBox(history, e);
    }
  }

  loadHistory();
  return {
    dispose() {
      alive = false;
      clearTimeout(timer);
    },
  };
}

// ---- daily report ----------------------------------------------------------------------

export function mountReport(root, ctx) {
  let alive = true;
  const dateIn = h("input", { type: "date", name: "date", value: today() });
  const teamIn = h("input", { name: "team", placeholder: t("report.allTeams"), value: ctx.me.team || "", disabled: Boolean(ctx.me.team) && ctx.me.role !== "admin" });
  const body = h("div.report-body");
  const trend = h("section.card.trend");
  const form = h("form.filters", { onsubmit: (e) => { e.preventDefault(); load(); } },
    field(t("report.date"), dateIn), field(t("report.team"), teamIn),
    h("button.primary", { type: "submit" }, t("common.apply")),
    h("button.ghost", { type: "button", onclick: csv }, "⤓ CSV"));
  dateIn.addEventListener("change", load);
  clear(root, h("div.page-head", h("h1", t("nav.report"))), form, body, trend);

  const params = (date) => ({ date, team: teamIn.value.trim() });

  async function load() {
    clear(body, spinner());
    clear(trend);
    try {
      const report = await api("/v1/reports/daily", { params: params(dateIn.value) });
      if (!alive) return;
      render(report);
      loadTrend();
    } catch (e) {
      errorBox(body, e);
    }
  }

  function render(r) {
    const reps = r.reps || [];
    const tot = r.totals || {};
    const flagTotals = Object.fromEntries(FLAGS.map((f) => [f, tot.flags?.[f] || {}]));
    clear(body,
      h("div.stats",
        stat(t("report.chats"), tot.chats ?? 0),
        stat(t("report.reps"), tot.reps ?? reps.length),
        stat(t("report.sla"), fmtPct(tot.sla_5min)),
        stat(t("report.followupsMissed"), `${tot.followups_missed ?? 0} / ${tot.followups_due ?? 0}`),
        stat(t("report.suggestionsServed"), tot.suggestions_served ?? 0)),
      !reps.length ? h("p.muted.card", t("report.empty")) : [
        h("div.chart-grid",
          h("section.card", h("h2", t("report.funnelByRep")),
            stackedBars(reps.map((p) => ({ label: p.rep_id, values: p.funnel })), [...FUNNELS],
              { keyLabel: (k) => label("funnel", k), color: colorOf("funnel") })),
          h("section.card", h("h2", t("report.flagsByType")),
            stackedBars(FLAGS.map((f) => ({ label: label("flag", f), values: flagTotals[f] })), ["confirmed", "open", "dismissed"],
              { keyLabel: (k) => label("status", k), color: colorOf("status") })),
          h("section.card", h("h2", t("report.slaByRep")),
            stackedBars(reps.map((p) => ({ label: p.rep_id, values: { sla: p.sla_5min ?? 0 }, total: fmtPct(p.sla_5min) })), ["sla"],
              { keyLabel: () => t("report.sla"), color: () => "var(--accent)", format: fmtPct, max: 1,
                reference: tot.sla_5min != null ? { value: tot.sla_5min, label: t("report.team") } : null }))),
        h("section.card.table-wrap", h("table.table.report-table",
          h("thead", h("tr", [t("report.rep"), t("report.chats"), ...FUNNELS.map((f) => label("funnel", f)), t("report.flags"),
            t("report.sla"), t("report.medianFirst"), t("report.followupsMissed"), t("report.acceptance")].map((x) => h("th", x)))),
          h("tbody", reps.map((p) => h("tr",
            h("td", p.rep_id), h("td.num", p.chats), FUNNELS.map((f) => h("td.num", p.funnel?.[f] ?? 0)),
            h("td.num", Object.values(p.flags || {}).reduce((a, s) => a + (s.open || 0) + (s.confirmed || 0), 0)),
            h("td.num", fmtPct(p.sla_5min)), h("td.num", fmtSeconds(p.median_first_response_s)),
            h("td.num", `${p.followups_missed ?? 0}/${p.followups_due ?? 0}`), h("td.num", fmtPct(p.suggestion_acceptance))))))),
      ]);
  }

  // Flags over the seven days up to the chosen date: one report per day, fetched side by side.
  async function loadTrend() {
    const end = new Date(`${dateIn.value}T12:00:00`);
    const days = [...Array(7)].map((_, i) => {
      const d = new Date(end);
      d.setDate(d.getDate() - (6 - i));
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    });
    try {
      const reports = await Promise.all(days.map((d) => api("/v1/reports/daily", { params: params(d) })));
      if (!alive) return;
      const columns = reports.map((r, i) => ({ label: days[i].slice(5),
        values: Object.fromEntries(FLAGS.map((f) => [f, Object.values(r.totals?.flags?.[f] || {}).reduce((a, b) => a + b, 0)])) }));
      clear(trend, h("h2", t("report.flagsOverTime")),
        stackedColumns(columns, [...FLAGS], { keyLabel: (k) => label("flag", k), color: colorOf("flag") }));
    } catch (e) {
      errorBox(trend, e);
    }
  }

  async function csv() {
    try {
      await download("/v1/reports/daily", { ...params(dateIn.value), format: "csv" }, `chatcoach-${dateIn.value}.csv`);
    } catch (e) {
      if (e.unavailable) toast(t("common.unavailable"), "warn");
      else toast(e.message, "error");
    }
  }

  function stat(name, value) {
    return h("div.stat", h("div.stat-value", value), h("div.stat-label", name));
  }

  load();
  return { dispose() { alive = false; } };
}
