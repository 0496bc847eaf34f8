// Rep view: the rep's chats, the open chat with stages and flags, a composer that warns before
// a reply the analyzer would flag, and the SOP suggestion panel with feedback.
// Built to work in WeCom's 360 px sidebar: one column there (list, or chat with a back button),
// three columns on a wide screen.

import { api } from "./api.js";
import { t, label } from "./i18n.js";
import {
  clear, copyText, debounce, errorBox, flagBadge, fmtTime, funnelTag, h, highlighted, messageBody, spinner, stageTag, toast, withPlaceholders,
} from "./ui.js";

export function mountRep(root, ctx) {
  const state = {
    chatId: ctx.param || null,
    chat: null, // contract chat as stored
    analysis: null,
    suggestions: [],
    verdicts: {}, // suggestion_id -> verdict recorded
    editing: null, // the suggestion being edited in the composer: its verdict is sent with the reply
    draftCheck: null, // {text, flags:[{flag, score, evidence}]}
  };
  let alive = true;

  // A rep sees its own chats; an admin (the only other role here) sees everyone's.
  const listTitle = ctx.me.role === "rep" ? t("rep.chats") : t("rep.allChats");
  const list = h("aside.chat-list", { "aria-label": listTitle });
  const convo = h("section.conversation");
  const side = h("aside.suggestions", { "aria-label": t("rep.suggestions") });
  const layout = h("div.rep-layout", list, convo, side);
  clear(root, layout);

  async function loadList() {
    clear(list, h("div.panel-head", h("h2", listTitle)), spinner());
    try {
      const data = await api("/v1/chats", { params: { limit: 200 } });
      if (!alive) return;
      const items = data.items.map((c) =>
        h("a.chat-item", {
          href: `#/chats/${encodeURIComponent(c.chat_id)}`,
          class: c.chat_id === state.chatId ? "active" : "",
          dataset: { chatId: c.chat_id },
        },
        h("div.chat-item-top", h("strong", c.chat_id), h("span.muted.small", fmtTime(c.last_ts))),
        c.customer_id && h("div.muted.tiny", c.customer_id),
        h("div.chat-item-meta", funnelTag(c.funnel), h("span.muted.small", t("rep.nMessages", { n: c.messages })),
          (c.flags || []).map((f) => flagBadge(f)))));
      clear(list, h("div.panel-head", h("h2", listTitle), h("span.count", data.total)),
        items.length ? h("nav.chat-items", items) : h("p.muted.pad", t("rep.noChats")));
    } catch (e) {
      errorBox(list, e);
    }
  }

  async function loadChat() {
    layout.classList.toggle("has-chat", Boolean(state.chatId));
    for (const a of list.querySelectorAll(".chat-item")) a.classList.toggle("active", a.dataset.chatId === state.chatId);
    if (!state.chatId) {
      clear(convo, h("div.empty", h("p", t("rep.pickChat"))));
      clear(side);
      return;
    }
    clear(convo, spinner());
    const id = state.chatId;
    try {
      const data = await api(`/v1/chats/${encodeURIComponent(id)}`);
      if (!alive || id !== state.chatId) return; // another chat was opened meanwhile
      state.chat = data.chat;
      state.analysis = data.analysis;
      renderConversation();
      renderSuggestions();
      // After a customer message the rep needs a reply: fetch suggestions without a click.
      const last = state.chat.messages.at(-1);
      if (last?.sender === "customer") suggest();
    } catch (e) {
      errorBox(convo, e);
    }
  }

  // ---- conversation -------------------------------------------------------------------

  const thread = h("div.thread");
  const composer = buildComposer();

  function analysisOf(id) {
    return state.analysis?.messages?.find((m) => m.id === id) || {};
  }

  function bubble(m) {
    const a = analysisOf(m.id);
    return h("div.msg", { class: m.sender, dataset: { id: m.id } },
      h("div.msg-meta", stageTag(a.stage), (a.flags || []).map((f) => flagBadge(f, a.flag_scores?.[f])),
        h("span.muted.small", fmtTime(m.ts))),
      h("div.bubble", { class: (a.flags || []).length ? "flagged" : "" },
        messageBody(m, a.evidence || [])));
  }

  function renderConversation() {
    const c = state.chat;
    const title = [c.customer_name || c.customer_id || c.chat_id, c.rep_name && `· ${c.rep_name}`].filter(Boolean).join(" ");
    clear(thread, c.messages.map(bubble));
    clear(convo,
      h("div.panel-head.convo-head",
        h("a.back", { href: "#/chats", title: t("rep.back") }, "←"),
        h("div.convo-title", h("h2", title), h("span.muted.small", c.chat_id)),
        funnelTag(state.analysis?.funnel)),
      thread, composer.el);
    thread.scrollTop = thread.scrollHeight;
  }

  // ---- composer with the pre-send check ------------------------------------------------

  function buildComposer() {
    const sender = h("select.sender", { "aria-label": t("rep.sender") },
      h("option", { value: "rep" }, t("rep.asRep")), h("option", { value: "customer" }, t("rep.asCustomer")));
    const input = h("textarea", { rows: 3, placeholder: t("rep.placeholder"), "aria-label": t("rep.placeholder") });
    const warning = h("div.draft-warning", { hidden: true, role: "alert" });
    const button = h("button.primary", { type: "submit" }, t("rep.send"));
    const form = h("form.composer", { onsubmit: (e) => { e.preventDefault(); sendMessage(); } },
      warning, input, h("div.composer-row", sender, h("span.muted.small.hint", t("rep.sendHint")), button));
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); sendMessage(); }
    });
    const check = debounce(() => checkDraft(), 450);
    input.addEventListener("input", check);
    sender.addEventListener("change", () => checkDraft());
    return { el: form, input, sender, warning, button };
  }

  // Analyse the draft as the chat's next rep message; its flags are what QA would see.
  async function checkDraft() {
    const text = composer.input.value.trim();
    if (!text || composer.sender.value !== "rep" || !state.chat) {
      state.draftCheck = null;
      showWarning();
      return null;
    }
    const draft = { id: "__draft__", sender: "rep", text, ts: new Date().toISOString() };
    try {
      const data = await api("/v1/analyze", { method: "POST", body: { chats: [{ ...state.chat, messages: [...state.chat.messages, draft] }] } });
      const result = data.results[0];
      if (composer.input.value.trim() !== text) return state.draftCheck; // typed on meanwhile: a newer check follows
      const last = result.messages?.at(-1) || {};
      state.draftCheck = { text, flags: (last.flags || []).map((f) => ({
        flag: f, score: last.flag_scores?.[f], evidence: (last.evidence || []).find((e) => e.flag === f) })) };
    } catch (e) {
      if (e.status !== 401) state.draftCheck = null; // the check must never block a reply
    }
    showWarning();
    return state.draftCheck;
  }

  function showWarning() {
    const flags = state.draftCheck?.flags || [];
    composer.warning.hidden = !flags.length;
    composer.button.textContent = flags.length ? t("rep.sendAnyway") : t("rep.send");
    composer.button.classList.toggle("danger", flags.length > 0);
    if (!flags.length) return clear(composer.warning);
    const text = state.draftCheck.text;
    clear(composer.warning,
      h("strong", "⚠ " + t("rep.draftWarning")),
      h("div.warning-flags", flags.map((f) => flagBadge(f.flag, f.score))),
      h("p.warning-text", highlighted(text, flags.map((f) => f.evidence).filter(Boolean))),
      h("small", t("rep.draftWarningHint")));
  }

  async function sendMessage() {
    const text = composer.input.value.trim();
    if (!text || !state.chat) return;
    const sender = composer.sender.value;
    if (sender === "rep") {
      // A flagged draft is sent only once its warning has been on screen ("send anyway"):
      // when the press beats the check, the press just brings the warning up.
      const seen = state.draftCheck?.text === text && state.draftCheck.flags.length > 0;
      const checked = state.draftCheck?.text === text ? state.draftCheck : await checkDraft();
      if (checked?.flags?.length && !seen) {
        composer.warning.classList.remove("pulse");
        void composer.warning.offsetWidth; // restart the animation
        composer.warning.classList.add("pulse");
        return;
      }
    }
    composer.button.disabled = true;
    const message = { id: `web-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`, sender, text,
      ts: new Date().toISOString(), type: "text" };
    try {
      const data = await api(`/v1/chats/${encodeURIComponent(state.chatId)}/messages`, { method: "POST", body: { message } });
      if (sender === "rep" && state.editing) {
        const s = state.editing;
        await feedback(s, s.text.trim() === text ? "accepted" : "edited", text);
      }
      state.editing = null;
      composer.input.value = "";
      state.draftCheck = null;
      showWarning();
      const fresh = await api(`/v1/chats/${encodeURIComponent(state.chatId)}`);
      state.chat = fresh.chat;
      state.analysis = fresh.analysis;
      renderConversation();
      // New suggestions come with a customer message; after the rep's reply the old ones are spent.
      if (data.suggestions || sender === "rep") {
        state.suggestions = data.suggestions || [];
        state.verdicts = {};
        renderSuggestions();
      }
      if (data.message?.flags?.length) toast(t("rep.sentFlagged"), "warn");
      loadList();
    } catch (e) {
      toast(e.message, "error");
    } finally {
      composer.button.disabled = false;
    }
  }

  // ---- suggestions ---------------------------------------------------------------------

  const suggestBox = h("div.suggestion-list");

  function renderSuggestions() {
    if (!state.chat) return clear(side);
    clear(side,
      h("div.panel-head", h("h2", t("rep.suggestions")),
        h("button.ghost", { onclick: suggest, title: t("rep.refreshSuggestions") }, "↻ " + t("rep.getSuggestions"))),
      suggestBox);
    drawSuggestionCards();
  }

  function drawSuggestionCards() {
    if (!state.suggestions.length) return clear(suggestBox, h("p.muted.pad", t("rep.noSuggestions")));
    clear(suggestBox, state.suggestions.map((s, i) => {
      const verdict = state.verdicts[s.suggestion_id];
      return h("article.suggestion", { class: verdict || "", dataset: { id: s.suggestion_id } },
        h("div.suggestion-head", h("span.rank", i + 1), stageTag(s.stage), h("span.muted.small.scenario", s.scenario || ""),
          h("span.score", { title: t("rep.score") }, `${Math.round(s.score * 100)}`)),
        h("p.suggestion-text", withPlaceholders(s.text)),
        h("div.suggestion-actions",
          h("button.ghost.copy", { onclick: () => copyText(s.text) }, t("rep.copy")),
          h("button.ghost.accept", { disabled: Boolean(verdict), onclick: () => accept(s) }, t("rep.accept")),
          h("button.ghost.edit", { disabled: Boolean(verdict), onclick: () => edit(s) }, t("rep.edit")),
          h("button.ghost.reject", { disabled: Boolean(verdict), onclick: () => feedback(s, "rejected") }, t("rep.reject"))),
        verdict && h("div.verdict", label("verdict", verdict)),
        h("div.muted.tiny", s.sop_id));
    }));
  }

  async function suggest() {
    if (!state.chat) return;
    clear(suggestBox, spinner());
    const id = state.chatId;
    try {
      const data = await api("/v1/suggest", { method: "POST", body: { chats: [state.chat], k: 3 } });
      if (!alive || id !== state.chatId) return;
      const result = data.results[0];
      state.suggestions = result.suggestions || [];
      state.verdicts = {};
      if (result.error) clear(suggestBox, h("p.error", result.error));
      else drawSuggestionCards();
    } catch (e) {
      // No active library is a normal state for a new team, not an error to shout about.
      if (e.status === 404 && !e.unavailable) clear(suggestBox, h("p.muted.pad", t("rep.noLibrary")));
      else errorBox(suggestBox, e);
    }
  }

  function fillComposer(s) {
    composer.sender.value = "rep";
    composer.input.value = s.text;
    composer.input.focus();
    checkDraft();
  }

  async function accept(s) {
    fillComposer(s);
    await feedback(s, "accepted");
  }

  function edit(s) {
    state.editing = s; // the verdict (edited, or accepted if unchanged) goes with the reply
    fillComposer(s);
    toast(t("rep.editHint"));
  }

  async function feedback(s, verdict, finalText) {
    try {
      await api(`/v1/suggestions/${encodeURIComponent(s.suggestion_id)}/feedback`, {
        method: "POST", body: { verdict, final_text: finalText ?? (verdict === "rejected" ? null : s.text) } });
      state.verdicts[s.suggestion_id] = verdict;
      drawSuggestionCards();
    } catch (e) {
      toast(e.message, "error");
    }
  }

  loadList();
  loadChat();
  return {
    // Hash changes within the view (another chat) reuse the mounted layout.
    update(param) {
      state.chatId = param || null;
      state.suggestions = [];
      state.editing = null;
      state.draftCheck = null;
      composer.input.value = "";
      showWarning();
      loadChat();
    },
    dispose() {
      alive = false;
    },
  };
}
