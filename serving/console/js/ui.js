// Small DOM helpers shared by the views: element builder, badges, toasts, copy, formatting.

import { t, label } from "./i18n.js";

// h("div.card#x", {onclick}, child, [children], "text") — terse enough to keep views readable
// without a framework. Falsy children are skipped so conditions can sit inline.
export function h(spec, attrs, ...children) {
  if (attrs === null || typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs)) {
    children.unshift(attrs);
    attrs = {};
  }
  const [, tag = "div", rest = ""] = /^([a-z0-9-]*)(.*)$/i.exec(spec);
  const el = document.createElement(tag || "div");
  for (const part of rest.match(/[.#][^.#]+/g) || []) {
    if (part[0] === ".") el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.classList.add(...String(value).split(/\s+/).filter(Boolean));
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style" && typeof value === "object") Object.assign(el.style, value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === "") continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function stageTag(stage) {
  if (!stage) return null;
  return h("span.tag.stage", { dataset: { stage }, title: stage }, label("stage", stage));
}

export function flagBadge(flag, score) {
  const pct = score === undefined || score === null ? "" : ` ${Math.round(score * 100)}%`;
  return h("span.badge.flag", { dataset: { flag }, title: flag }, label("flag", flag) + pct);
}

export function funnelTag(funnel) {
  if (!funnel) return null;
  return h("span.tag.funnel", { dataset: { funnel } }, label("funnel", funnel));
}

// Message text with the evidence span(s) wrapped in <mark>: QA sees exactly what triggered a flag.
export function highlighted(text, spans) {
  const ranges = (spans || [])
    .filter((s) => s && Number.isInteger(s.start) && Number.isInteger(s.end) && s.end > s.start)
    .sort((a, b) => a.start - b.start);
  const out = [];
  let at = 0;
  for (const { start, end, flag } of ranges) {
    if (start < at) continue; // overlapping spans: keep the first
    out.push(text.slice(at, start), h("mark", { dataset: { flag: flag || "" } }, text.slice(start, end)));
    at = end;
  }
  out.push(text.slice(at));
  return out;
}

// Placeholders the server could not fill ({产品名}) stand out so the rep fills them before sending.
export function withPlaceholders(text) {
  return text.split(/(\{[^{}]{1,20}\})/).map((part, i) => (i % 2 ? h("span.placeholder", part) : part));
}

export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  const el = h("div.toast", { class: kind }, message);
  box.append(el);
  setTimeout(() => el.classList.add("leaving"), 3200);
  setTimeout(() => el.remove(), 3700);
}

// An endpoint this server lacks answers 404/405: say so quietly in place of the panel.
export function notAvailable(el) {
  return clear(el, h("p.muted.unavailable", t("common.unavailable")));
}

export function errorBox(el, error) {
  if (error?.unavailable) return notAvailable(el);
  return clear(el, h("p.error", error?.message || String(error)));
}

export function spinner() {
  return h("div.spinner", { role: "progressbar", "aria-label": t("common.loading") });
}

// Non-text messages (image, video, file, …) show their kind and name, not a raw file name.
export function messageBody(m, spans) {
  const type = m.type || "text";
  if (type === "text") return spans ? highlighted(m.text || "", spans) : m.text || "";
  return h("span.attachment", `[${label("msgType", type)}] `, m.text && !/^\[.*\]$/.test(m.text) ? m.text : "");
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Clipboard API needs a secure context and focus; the old way works inside WeCom's webview.
    const area = h("textarea", { style: { position: "fixed", opacity: "0" } });
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  toast(t("common.copied"), "ok");
}

export function fmtTime(iso) {
  if (!iso) return "";
  // The API stores instants in UTC and some columns come back without an offset: read those as UTC,
  // not as the browser's local time.
  const d = new Date(/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(iso) ? `${iso}Z` : iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(document.documentElement.lang, { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

export function fmtPct(x) {
  return x === null || x === undefined ? "—" : `${Math.round(x * 100)}%`;
}

export function fmtSeconds(s) {
  if (s === null || s === undefined) return "—";
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

export function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

export function field(labelText, input, hint) {
  return h("label.field", h("span.field-label", labelText), input, hint && h("small.muted", hint));
}

export function select(options, value, attrs = {}) {
  const el = h("select", attrs, options.map(([v, text]) => h("option", { value: v }, text)));
  el.value = value ?? "";
  return el;
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// Keyboard shortcuts must not fire while the user types in a field.
export function typing(event) {
  const el = event.target;
  return el instanceof HTMLElement && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
}
