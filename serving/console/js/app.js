// The console's shell: sign-in, the role's navigation, hash routing, language switch.
// Each view is a mount(root, ctx) function returning {dispose, update?}; the shell owns nothing else.

import { api, ApiError, getKey, setKey } from "./api.js";
import { getLang, setLang, t, label } from "./i18n.js";
import { clear, h, spinner } from "./ui.js";
import { mountRep } from "./rep.js";
import { mountAudits, mountQueue, mountReport } from "./qa.js";
import { mountCandidates, mountExamples, mountLibraries } from "./trainer.js";
import { mountAlerts, mountKeys } from "./admin.js";

// Which roles see a view: the same roles the API lets through for what the view does
// (serving/deps.py), so nobody is shown a page that would only answer 403.
const VIEWS = [
  { id: "chats", mount: mountRep, roles: ["rep", "admin"] }, // reading and writing chats
  { id: "qa", mount: mountQueue, roles: ["qa", "admin"] }, // reviewing flags (Reviewer)
  { id: "audits", mount: mountAudits, roles: ["qa", "admin"] },
  { id: "examples", mount: mountExamples, roles: ["trainer", "admin"] }, // Curator
  { id: "candidates", mount: mountCandidates, roles: ["trainer", "admin"] },
  { id: "sop", mount: mountLibraries, roles: ["trainer", "admin"] },
  { id: "report", mount: mountReport, roles: ["qa", "trainer", "admin"] }, // Staff
  { id: "keys", mount: mountKeys, roles: ["admin"] },
  { id: "alerts", mount: mountAlerts, roles: ["admin"] },
];
// Where each role lands after signing in: its daily work.
const HOME = { rep: "chats", qa: "qa", trainer: "examples", admin: "chats" };

const appEl = document.getElementById("app");
let me = null;
let current = null; // {id, handle}
let signInNotice = "";

function langSwitch() {
  const other = getLang() === "zh" ? "en" : "zh";
  return h("button.ghost.lang", {
    type: "button", title: t("app.switchLang"), dataset: { lang: other },
    onclick: () => {
      setLang(other);
      document.documentElement.lang = other === "zh" ? "zh-CN" : "en";
      // Views render their text once: mount them again in the new language.
      me ? renderShell() : renderSignIn();
    },
  }, other === "en" ? "EN" : "中文");
}

// ---- sign-in ---------------------------------------------------------------------------

function renderSignIn(message = signInNotice) {
  signInNotice = "";
  current?.handle?.dispose?.();
  current = null;
  const input = h("input#key", { type: "password", name: "key", autocomplete: "off", required: true, placeholder: "cc_…", spellcheck: false });
  const error = h("p.error.signin-error", { hidden: !message, role: "alert" }, message);
  const button = h("button.primary.wide", { type: "submit" }, t("signin.submit"));
  const form = h("form.signin-card", {
    onsubmit: async (e) => {
      e.preventDefault();
      button.disabled = true;
      setKey(input.value.trim());
      try {
        await start();
      } catch (err) {
        setKey(null);
        error.hidden = false;
        error.textContent = err instanceof ApiError && err.status === 401 ? t("signin.bad") : err.message;
        button.disabled = false;
      }
    },
  },
  h("div.brand.big", logo(), h("span", "ChatCoach")),
  h("p.muted", t("signin.intro")),
  h("label.field", h("span.field-label", t("signin.key")), input),
  error, button,
  h("p.muted.small", t("signin.hint")));
  clear(appEl, h("div.signin", h("div.signin-top", langSwitch()), form));
  input.focus();
}

function logo() {
  return h("img.logo", { src: "favicon.svg", alt: "", width: 28, height: 28 });
}

async function start() {
  me = await api("/v1/me");
  renderShell();
}

function signOut(message = "") {
  setKey(null);
  me = null;
  if (location.hash) history.replaceState(null, "", location.pathname);
  renderSignIn(message);
}

// Any 401 (key revoked while the page is open, or expired) sends the user back to sign-in.
window.addEventListener("cc:unauthorized", () => {
  if (me) signOut(t("signin.expired"));
});

// ---- shell and routing -----------------------------------------------------------------

const main = h("main.view");

function allowed() {
  return VIEWS.filter((v) => v.roles.includes(me.role));
}

function renderShell() {
  document.body.dataset.role = me.role;
  const nav = h("nav.tabs", { "aria-label": t("app.nav") }, allowed().map((v) =>
    h("a.tab", { href: `#/${v.id}`, dataset: { view: v.id } }, t(`nav.${v.id}`))));
  const who = [me.name || me.prefix, label("role", me.role), me.team && `${t("keys.team")} ${me.team}`, me.rep_id].filter(Boolean).join(" · ");
  clear(appEl,
    h("header.topbar",
      h("a.brand", { href: "#/" }, logo(), h("span", "ChatCoach")),
      nav,
      h("div.topbar-right", h("span.who", { title: who }, who), langSwitch(),
        h("button.ghost.signout", { type: "button", onclick: () => signOut() }, t("app.signOut")))),
    main);
  current?.handle?.dispose?.();
  current = null;
  route();
}

function parseHash() {
  const [, id = "", ...rest] = location.hash.replace(/^#/, "").split("/");
  return { id, param: rest.length ? decodeURIComponent(rest.join("/")) : null };
}

function route() {
  if (!me) return;
  const views = allowed();
  let { id, param } = parseHash();
  const view = views.find((v) => v.id === id);
  if (!view) {
    const home = views.find((v) => v.id === HOME[me.role]) || views[0];
    history.replaceState(null, "", `#/${home.id}`);
    ({ id, param } = parseHash());
    return route();
  }
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.view === id);
  document.body.dataset.view = id;
  if (current?.id === id && current.handle?.update) {
    current.handle.update(param);
    return;
  }
  current?.handle?.dispose?.();
  clear(main);
  current = { id, handle: view.mount(main, { me, param }) || {} };
  main.focus?.();
}

window.addEventListener("hashchange", route);

// ---- boot ------------------------------------------------------------------------------

document.documentElement.lang = getLang() === "zh" ? "zh-CN" : "en";
if (getKey()) {
  clear(appEl, h("div.boot", spinner()));
  start().catch((e) => {
    setKey(null);
    renderSignIn(e instanceof ApiError && e.status === 401 ? t("signin.expired") : e.message);
  });
} else {
  renderSignIn();
}
