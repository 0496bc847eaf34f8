// Trainer view: mined examples (browse, export), script candidates, and the SOP libraries
// (upload, versions, activate, and a diff between two versions computed here in the page).

import { api, download } from "./api.js";
import { STAGES, t, label } from "./i18n.js";
import { clear, copyText, errorBox, field, fmtTime, h, messageBody, select, spinner, stageTag, toast } from "./ui.js";

// ---- examples ----------------------------------------------------------------------------

export function mountExamples(root) {
  let alive = true;
  const stageSel = select([["", t("trainer.allStages")], ...STAGES.map((s) => [s, label("stage", s)])], "", { name: "stage" });
  const outcomeSel = select([["", t("trainer.anyOutcome")], ["won", label("funnel", "won")], ["repeat", label("funnel", "repeat")]], "", { name: "outcome" });
  const industryIn = h("input", { name: "industry", placeholder: "jewelry" });
  const limitIn = h("input", { name: "limit", type: "number", min: 1, max: 500, value: 20 });
  const listEl = h("div.examples");
  const form = h("form.filters", { onsubmit: (e) => { e.preventDefault(); load(); } },
    field(t("trainer.stage"), stageSel), field(t("trainer.outcome"), outcomeSel), field(t("trainer.industry"), industryIn),
    field(t("trainer.limit"), limitIn), h("button.primary", { type: "submit" }, t("common.apply")),
    h("button.ghost", { type: "button", onclick: exportJsonl }, "⤓ JSONL"));
  for (const el of [stageSel, outcomeSel]) el.addEventListener("change", load);
  clear(root, h("div.page-head", h("h1", t("nav.examples")), h("p.muted", t("trainer.examplesHint"))), form, listEl);

  const params = () => ({ stage: stageSel.value, outcome: outcomeSel.value, industry: industryIn.value.trim(), limit: limitIn.value });

  async function load() {
    clear(listEl, spinner());
    try {
      const data = await api("/v1/examples", { params: params() });
      if (!alive) return;
      if (!data.items.length) return clear(listEl, h("p.muted.card", t("trainer.noExamples")));
      clear(listEl, data.items.map((ex) => h("article.card.example",
        h("div.example-head", stageTag(ex.stage), h("span.tag.funnel", { dataset: { funnel: ex.outcome } }, label("funnel", ex.outcome)),
          h("span.muted.small", [ex.industry, ex.rep_id, ex.chat_id].filter(Boolean).join(" · ")),
          h("span.score", { title: t("trainer.score") }, ex.score.toFixed(2))),
        h("div.excerpt", ex.excerpt.map((m) => h("div.msg", { class: m.sender },
          h("div.msg-meta", stageTag(m.stage)), h("div.bubble", messageBody(m))))))));
    } catch (e) {
      errorBox(listEl, e);
    }
  }

  async function exportJsonl() {
    try {
      await download("/v1/examples", { ...params(), format: "jsonl" }, "examples.jsonl");
    } catch (e) {
      toast(e.unavailable ? t("common.unavailable") : e.message, e.unavailable ? "warn" : "error");
    }
  }

  load();
  return { dispose() { alive = false; } };
}

// ---- script candidates -------------------------------------------------------------------

export function mountCandidates(root) {
  let alive = true;
  const listEl = h("div.candidates");
  clear(root, h("div.page-head", h("h1", t("nav.candidates")), h("p.muted", t("trainer.candidatesHint"))), listEl);
  (async () => {
    clear(listEl, spinner());
    try {
      const data = await api("/v1/sop-candidates");
      if (!alive) return;
      if (!data.items.length) return clear(listEl, h("p.muted.card", t("trainer.noCandidates")));
      clear(listEl, data.items.map((c) => h("article.card.candidate",
        h("div.example-head", stageTag(c.stage), h("span.count", `×${c.count}`),
          h("button.ghost.small", { onclick: () => copyText(c.representative) }, t("rep.copy"))),
        h("p.representative", c.representative),
        (c.examples || []).length > 1 && h("details", h("summary", t("trainer.variants", { n: c.examples.length })),
          h("ul", c.examples.map((x) => h("li", x)))))));
    } catch (e) {
      errorBox(listEl, e);
    }
  })();
  return { dispose() { alive = false; } };
}

// ---- SOP libraries -----------------------------------------------------------------------

export function mountLibraries(root, ctx) {
  let alive = true;
  let versions = [];
  const nameIn = h("input", { name: "name", required: true, placeholder: "jewelry", pattern: "[^\\s]+" });
  const fileIn = h("input", { type: "file", name: "file", accept: ".jsonl,.json,.txt" });
  const textIn = h("textarea", { name: "jsonl", rows: 5, placeholder: '{"id": "greet-01", "stage": "greeting", "scenario": "…", "text": "…"}' });
  fileIn.addEventListener("change", async () => {
    if (fileIn.files[0]) textIn.value = await fileIn.files[0].text();
  });
  const upload = h("form.card.upload", { onsubmit: (e) => { e.preventDefault(); send(); } },
    h("h2", t("sop.upload")), h("p.muted.small", t("sop.uploadHint")),
    field(t("sop.name"), nameIn), field(t("sop.file"), fileIn), field(t("sop.orPaste"), textIn),
    h("button.primary", { type: "submit" }, t("sop.uploadButton")));
  const table = h("section.card.versions");
  const diffBox = h("section.card.diff-box");
  const viewBox = h("section.card.view-box", { hidden: true });
  clear(root, h("div.page-head", h("h1", t("nav.sop"))), h("div.sop-layout", upload, table), diffBox, viewBox);

  async function send() {
    const body = textIn.value.trim();
    if (!body) return toast(t("sop.emptyBody"), "warn");
    try {
      const row = await api("/v1/sop-libraries", { method: "POST", params: { name: nameIn.value.trim() }, raw: body + "\n",
        contentType: "application/x-ndjson" });
      toast(t("sop.uploaded", { name: row.name, version: row.version, n: row.scripts }), "ok");
      await loadVersions(row.id);
    } catch (e) {
      const errors = e.body?.error?.errors;
      toast(errors ? `${e.message}: ${errors.slice(0, 3).join("; ")}` : e.message, "error");
    }
  }

  async function loadVersions(justAdded) {
    clear(table, spinner());
    try {
      versions = (await api("/v1/sop-libraries")).items.slice().reverse(); // newest first
      if (!alive) return;
      renderVersions(justAdded);
    } catch (e) {
      errorBox(table, e);
    }
  }

  function renderVersions(justAdded) {
    if (!versions.length) return clear(table, h("h2", t("sop.versions")), h("p.muted", t("sop.none")));
    const opts = versions.map((v) => [String(v.id), `${v.name} v${v.version} (#${v.id})`]);
    // Default diff: the newest version against the previous version of the same library.
    const newest = versions.find((v) => v.id === justAdded) || versions[0];
    const previous = versions.find((v) => v.name === newest.name && v.version < newest.version) || versions[1] || newest;
    const fromSel = select(opts, String(previous.id), { name: "from" });
    const toSel = select(opts, String(newest.id), { name: "to" });
    clear(table, h("h2", t("sop.versions")),
      h("div.table-wrap", h("table.table",
        h("thead", h("tr", [t("sop.name"), t("sop.version"), t("sop.scripts"), t("sop.activeFor"), t("sop.created"), ""].map((x) => h("th", x)))),
        h("tbody", versions.map((v) => h("tr", { class: v.id === justAdded ? "fresh" : "", dataset: { id: v.id } },
          h("td", v.name), h("td", `v${v.version}`), h("td.num", v.scripts),
          h("td", (v.active_for || []).map((team) => h("span.tag.active", team === "*" ? t("sop.everyone") : team))),
          h("td.small", fmtTime(v.created_at)),
          h("td.actions", h("button.ghost.small", { onclick: () => view(v.id) }, t("sop.view")),
            h("button.ghost.small.activate", { onclick: (e) => activate(v, e.target.closest("td")) }, t("sop.activate")))))))),
      h("form.diff-pick", { onsubmit: (e) => { e.preventDefault(); diff(Number(fromSel.value), Number(toSel.value)); } },
        field(t("sop.from"), fromSel), field(t("sop.to"), toSel), h("button.primary", { type: "submit" }, t("sop.compare"))));
    if (versions.length > 1) diff(Number(fromSel.value), Number(toSel.value));
  }

  // Activation asks for the team inline, in the version's row; a team-scoped trainer may only
  // activate for its own team, so its box is fixed to it.
  function activate(v, cell) {
    const fixed = ctx.me.team && ctx.me.role !== "admin" ? ctx.me.team : null;
    const teamIn = h("input.small", { name: "team", value: fixed || "*", disabled: Boolean(fixed), size: 8, title: t("sop.activateTeam") });
    const form = h("form.inline", { onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api(`/v1/sop-libraries/${v.id}/activate`, { method: "POST", body: { team: teamIn.value.trim() || "*" } });
        toast(t("sop.activated", { name: v.name, version: v.version }), "ok");
        loadVersions(v.id);
      } catch (err) {
        toast(err.message, "error");
      }
    } }, teamIn, h("button.primary.small", { type: "submit" }, "✓"),
    h("button.ghost.small", { type: "button", onclick: () => renderVersions() }, "✕"));
    clear(cell, form);
    teamIn.focus();
  }

  async function view(id) {
    viewBox.hidden = false;
    clear(viewBox, spinner());
    try {
      const lib = await api(`/v1/sop-libraries/${id}`);
      clear(viewBox, h("div.panel-head", h("h2", `${lib.name} v${lib.version}`), h("span.muted.small", lib.content_hash?.slice(0, 12)),
        h("button.ghost.small", { onclick: () => { viewBox.hidden = true; } }, "✕")),
      h("div.table-wrap", h("table.table.scripts", h("thead", h("tr", ["id", t("trainer.stage"), t("sop.scenario"), t("sop.text")].map((x) => h("th", x)))),
        h("tbody", lib.items.map((s) => h("tr", h("td", h("code", s.id)), h("td", stageTag(s.stage)), h("td.small", s.scenario || ""), h("td", s.text)))))));
      viewBox.scrollIntoView({ behavior: "smooth", block: "start" });
    } catch (e) {
      errorBox(viewBox, e);
    }
  }

  async function diff(fromId, toId) {
    clear(diffBox, spinner());
    try {
      const [a, b] = await Promise.all([api(`/v1/sop-libraries/${fromId}`), api(`/v1/sop-libraries/${toId}`)]);
      if (!alive) return;
      renderDiff(a, b, diffLibraries(a.items, b.items));
    } catch (e) {
      errorBox(diffBox, e);
    }
  }

  function renderDiff(a, b, d) {
    const head = h("div.panel-head", h("h2", t("sop.diff"), " ", h("span.muted", `${a.name} v${a.version} → ${b.name} v${b.version}`)),
      h("div.diff-counts",
        h("span.tag.added", t("sop.added", { n: d.added.length })),
        h("span.tag.removed", t("sop.removed", { n: d.removed.length })),
        h("span.tag.changed", t("sop.changed", { n: d.changed.length })),
        h("span.muted.small", t("sop.same", { n: d.same }))));
    if (!d.added.length && !d.removed.length && !d.changed.length) return clear(diffBox, head, h("p.muted", t("sop.identical")));
    const script = (s, cls) => h("li.diff-item", { class: cls, dataset: { id: s.id } }, h("code", s.id), " ", stageTag(s.stage), " ", h("span", s.text));
    clear(diffBox, head,
      d.added.length > 0 && h("div", h("h3", t("sop.addedTitle")), h("ul.diff-list", d.added.map((s) => script(s, "added")))),
      d.removed.length > 0 && h("div", h("h3", t("sop.removedTitle")), h("ul.diff-list", d.removed.map((s) => script(s, "removed")))),
      d.changed.length > 0 && h("div", h("h3", t("sop.changedTitle")), h("ul.diff-list", d.changed.map(({ before, after, fields }) =>
        h("li.diff-item.changed", { dataset: { id: after.id } },
          h("div", h("code", after.id), " ", h("span.muted.small", fields.join(", "))),
          fields.filter((f) => f !== "text").map((f) => h("div.small", `${f}: `, h("del", fmtValue(before[f])), " → ", h("ins", fmtValue(after[f])))),
          fields.includes("text") && h("div.text-diff", textDiff(before.text || "", after.text || "")))))));
  }

  loadVersions();
  return { dispose() { alive = false; } };
}

function fmtValue(v) {
  return v === undefined || v === null ? "∅" : typeof v === "string" ? v : JSON.stringify(v);
}

// Scripts are compared by id: added, removed, and changed (any field differs).
export function diffLibraries(before, after) {
  const old = new Map(before.map((s) => [s.id, s]));
  const now = new Map(after.map((s) => [s.id, s]));
  const added = after.filter((s) => !old.has(s.id));
  const removed = before.filter((s) => !now.has(s.id));
  const changed = [];
  let same = 0;
  for (const s of after) {
    const prev = old.get(s.id);
    if (!prev) continue;
    const fields = [...new Set([...Object.keys(prev), ...Object.keys(s)])]
      .filter((k) => JSON.stringify(prev[k]) !== JSON.stringify(s[k]));
    if (fields.length) changed.push({ before: prev, after: s, fields: fields.sort((x, y) => (x === "text" ? -1 : y === "text" ? 1 : 0)) });
    else same += 1;
  }
  return { added, removed, changed, same };
}

// Character-level diff (LCS): Chinese has no spaces, and scripts are short enough for O(n·m).
function textDiff(a, b) {
  const A = [...a], B = [...b];
  const n = A.length, m = B.length;
  if (n * m > 250_000) return [h("del", a), h("ins", b)];
  const dp = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--)
    dp[i][j] = A[i] === B[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const out = [];
  const push = (tag, ch) => {
    const last = out.at(-1);
    if (last && last.tag === tag) last.text += ch;
    else out.push({ tag, text: ch });
  };
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (A[i] === B[j]) push("span", A[i++]), j++;
    else if (dp[i + 1][j] >= dp[i][j + 1]) push("del", A[i++]);
    else push("ins", B[j++]);
  }
  while (i < n) push("del", A[i++]);
  while (j < m) push("ins", B[j++]);
  return out.map(({ tag, text }) => h(tag, text));
}
