// Admin: API keys (create — the secret is shown once —, revoke) and alert rules.

import { api } from "./api.js";
import { FLAGS, t, label } from "./i18n.js";
import { clear, copyText, errorBox, field, fmtTime, h, select, spinner, toast } from "./ui.js";

const ROLES = ["rep", "qa", "trainer", "admin"];

export function mountKeys(root, ctx) {
  let alive = true;
  const roleSel = select(ROLES.map((r) => [r, label("role", r)]), "rep", { name: "role" });
  const nameIn = h("input", { name: "name", placeholder: t("keys.namePlaceholder") });
  const repIn = h("input", { name: "rep_id", placeholder: "rep-007" });
  const teamIn = h("input", { name: "team", placeholder: "north" });
  const repField = field(t("keys.repId"), repIn, t("keys.repHint"));
  // rep_id matters only for a rep key (and is required there); hide it otherwise.
  const syncRole = () => {
    repField.hidden = roleSel.value !== "rep";
    repIn.required = roleSel.value === "rep";
  };
  roleSel.addEventListener("change", syncRole);
  syncRole();
  const secretBox = h("div.secret", { hidden: true, role: "alert" });
  const form = h("form.card.key-form", { onsubmit: (e) => { e.preventDefault(); create(); } },
    h("h2", t("keys.create")),
    h("div.grid-2", field(t("keys.role"), roleSel), field(t("keys.name"), nameIn), repField, field(t("keys.team"), teamIn, t("keys.teamHint"))),
    h("button.primary", { type: "submit" }, t("keys.createButton")), secretBox);
  const table = h("section.card");
  clear(root, h("div.page-head", h("h1", t("nav.keys"))), h("div.admin-layout", form, table));

  async function create() {
    try {
      const made = await api("/v1/keys", { method: "POST", body: {
        role: roleSel.value, name: nameIn.value.trim(), rep_id: roleSel.value === "rep" ? repIn.value.trim() : null, team: teamIn.value.trim() || null } });
      secretBox.hidden = false;
      clear(secretBox, h("strong", t("keys.once")), h("code.key-secret", made.key),
        h("button.ghost.small", { type: "button", onclick: () => copyText(made.key) }, t("rep.copy")));
      nameIn.value = repIn.value = "";
      load(made.id);
    } catch (e) {
      toast(e.message, "error");
    }
  }

  async function revoke(k) {
    if (!confirm(t("keys.confirmRevoke", { name: k.name || k.prefix }))) return;
    try {
      await api(`/v1/keys/${k.id}`, { method: "DELETE" });
      toast(t("keys.revoked"), "ok");
      load();
    } catch (e) {
      toast(e.message, "error");
    }
  }

  async function load(fresh) {
    clear(table, spinner());
    try {
      const data = await api("/v1/keys");
      if (!alive) return;
      clear(table, h("h2", t("keys.list")), h("div.table-wrap", h("table.table.keys",
        h("thead", h("tr", ["#", t("keys.name"), t("keys.role"), t("keys.repId"), t("keys.team"), t("keys.prefix"), t("keys.created"), ""].map((x) => h("th", x)))),
        h("tbody", data.items.map((k) => h("tr", { class: [k.revoked_at ? "revoked" : "", k.id === fresh ? "fresh" : ""].join(" "), dataset: { id: k.id } },
          h("td.num", k.id), h("td", k.name || "—"), h("td", h("span.tag.role", { dataset: { role: k.role } }, label("role", k.role))),
          h("td", k.rep_id || ""), h("td", k.team || ""), h("td", h("code", k.prefix)), h("td.small", fmtTime(k.created_at)),
          h("td.actions", k.revoked_at ? h("span.muted.small", t("keys.revokedAt", { at: fmtTime(k.revoked_at) }))
            : k.id === ctx.me.id ? h("span.muted.small", t("keys.yours"))
              : h("button.danger-outline.small", { onclick: () => revoke(k) }, t("keys.revoke")))))))));
    } catch (e) {
      errorBox(table, e);
    }
  }

  load();
  return { dispose() { alive = false; } };
}

export function mountAlerts(root) {
  let alive = true;
  const flagSel = select(FLAGS.map((f) => [f, label("flag", f)]), "side_order", { name: "flag" });
  const scoreIn = h("input", { name: "min_score", type: "number", min: 0, max: 1, step: 0.05, value: 0.5 });
  const teamIn = h("input", { name: "team", placeholder: t("alerts.anyTeam") });
  const urlIn = h("input", { name: "url", type: "url", required: true, placeholder: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…" });
  const formatSel = select([["wecom", t("alerts.wecom")], ["dingtalk", t("alerts.dingtalk")], ["feishu", t("alerts.feishu")]], "wecom", { name: "format" });
  const form = h("form.card", { onsubmit: (e) => { e.preventDefault(); add(); } },
    h("h2", t("alerts.add")), h("p.muted.small", t("alerts.hint")),
    h("div.grid-2", field(t("qa.flag"), flagSel), field(t("qa.minScore"), scoreIn), field(t("keys.team"), teamIn), field(t("alerts.format"), formatSel)),
    field(t("alerts.url"), urlIn), h("button.primary", { type: "submit" }, t("alerts.addButton")));
  const table = h("section.card");
  clear(root, h("div.page-head", h("h1", t("nav.alerts"))), h("div.admin-layout", form, table));

  async function add() {
    try {
      await api("/v1/alert-rules", { method: "POST", body: {
        flag: flagSel.value, min_score: Number(scoreIn.value || 0), team: teamIn.value.trim() || null, url: urlIn.value.trim(), format: formatSel.value } });
      urlIn.value = "";
      toast(t("alerts.added"), "ok");
      load();
    } catch (e) {
      toast(e.unavailable ? t("common.unavailable") : e.message, "error");
    }
  }

  async function remove(rule) {
    if (!confirm(t("alerts.confirmDelete"))) return;
    try {
      await api(`/v1/alert-rules/${rule.id}`, { method: "DELETE" });
      load();
    } catch (e) {
      toast(e.message, "error");
    }
  }

  async function load() {
    clear(table, spinner());
    try {
      const data = await api("/v1/alert-rules");
      if (!alive) return;
      clear(table, h("h2", t("alerts.list")), data.items.length ? h("div.table-wrap", h("table.table.rules",
        h("thead", h("tr", [t("qa.flag"), t("qa.minScore"), t("keys.team"), t("alerts.format"), t("alerts.url"), t("alerts.deliveries"), ""].map((x) => h("th", x)))),
        h("tbody", data.items.map((r) => h("tr", { dataset: { id: r.id } },
          h("td", label("flag", r.flag)), h("td.num", r.min_score), h("td", r.team || t("alerts.anyTeam")), h("td", t(`alerts.${r.format}`)),
          h("td.url", { title: r.url }, r.url), h("td.small", r.deliveries ? t("alerts.counts", r.deliveries) : ""),
          h("td.actions", h("button.danger-outline.small", { onclick: () => remove(r) }, t("alerts.delete")))))))) : h("p.muted", t("alerts.none")));
    } catch (e) {
      errorBox(table, e);
    }
  }

  load();
  return { dispose() { alive = false; } };
}
