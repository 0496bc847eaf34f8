// UI text, one dictionary per language. Chinese is the default (the users are 私域 sales teams);
// the choice is kept in localStorage so it survives sign-out and new tabs.

export const STAGES = ["greeting", "rapport", "needs", "pitch", "quote", "objection", "close", "after_sale"];
export const FUNNELS = ["silent", "engaged", "quoted", "won", "repeat"];
export const FLAGS = ["insult", "side_order", "false_promise", "privacy", "complaint"];

const zh = {
  app: { nav: "导航", signOut: "退出", switchLang: "Switch to English" },
  nav: { chats: "会话", qa: "质检队列", audits: "批量审计", report: "日报", examples: "优秀案例", candidates: "话术候选", sop: "话术库", keys: "密钥", alerts: "告警规则" },
  signin: {
    intro: "销售会话辅导：阶段识别、风险质检与话术推荐。", key: "API 密钥", submit: "登录",
    hint: "密钥由管理员通过 chatcoach keys create 创建；只保存在本标签页中。",
    bad: "密钥无效或已吊销。", expired: "登录已失效（密钥无效或已吊销），请重新登录。",
  },
  common: {
    apply: "筛选", cancel: "取消", save: "保存", more: "加载更多", loading: "加载中…", copied: "已复制",
    unavailable: "此功能在当前服务器上暂不可用。",
  },
  rep: {
    chats: "我的会话", allChats: "全部会话", nMessages: "{n} 条", noChats: "还没有会话。", pickChat: "从左侧选择一个会话。", back: "返回会话列表",
    sender: "发送者", asRep: "我（顾问）", asCustomer: "客户", placeholder: "输入回复…", send: "发送", sendAnyway: "仍然发送",
    sendHint: "Ctrl+Enter 发送", draftWarning: "这条回复可能被质检标记", draftWarningHint: "请修改后再发送；如确需发送，可点击“仍然发送”。",
    sentFlagged: "已发送，但这条消息被标记了。", suggestions: "推荐话术", getSuggestions: "获取推荐", refreshSuggestions: "按当前会话重新推荐",
    noSuggestions: "客户发来消息后会自动推荐；也可以点击“获取推荐”。", noLibrary: "当前团队还没有启用话术库。",
    copy: "复制", accept: "采用", edit: "编辑", reject: "不合适", score: "匹配度",
    editHint: "已放入输入框：修改后发送，会记录为“编辑后采用”。",
  },
  qa: {
    queue: "待审列表", status: "状态", flag: "风险类型", rep: "顾问", since: "起始日期", minScore: "最低分", allFlags: "全部类型",
    shortcuts: "快捷键：j / k 上下移动 · c 确认 · d 驳回 · a 补充漏标", readOnly: "只读：复核需要质检或管理员密钥。",
    empty: "队列是空的。", nothingSelected: "选择一条标记查看上下文。", evidence: "触发依据", comment: "备注（可选）",
    confirm: "确认违规", dismiss: "驳回", addMissed: "补充漏标", message: "消息", missedAdded: "已补充漏标。",
    reviewed: "已标为{verdict}",
  },
  audit: {
    new: "发起审计", hint: "不填条件则审计你可见的全部会话。", since: "开始日期", until: "结束日期", reps: "顾问 ID（逗号分隔）",
    chats: "会话 ID（逗号分隔）", start: "开始审计", started: "已排队：{total} 个会话", job: "任务", status: "状态",
    progress: "进度", created: "创建时间", recent: "最近的审计", none: "还没有审计任务。", rate: "{rate} 个会话/秒",
    eta: "预计还需 {eta}", funnel: "漏斗", flags: "标记消息", errors: "出错", toQueue: "去质检队列复核",
  },
  report: {
    date: "日期", team: "团队", allTeams: "全部团队", chats: "会话", reps: "顾问", sla: "5 分钟回复率", followupsMissed: "漏跟进",
    suggestionsServed: "推荐次数", empty: "这一天没有会话。", funnelByRep: "各顾问漏斗分布", flagsByType: "风险类型分布",
    slaByRep: "各顾问 5 分钟回复率", flagsOverTime: "近 7 天风险标记", rep: "顾问", flags: "风险", medianFirst: "首次响应中位数",
    acceptance: "推荐采用率",
  },
  trainer: {
    stage: "阶段", outcome: "结果", industry: "行业", limit: "数量", allStages: "全部阶段", anyOutcome: "成交或复购",
    examplesHint: "来自成交 / 复购且无风险标记的真实会话片段，按示范价值排序。", noExamples: "没有符合条件的案例。",
    score: "示范分", candidatesHint: "成功会话里反复出现、但现有话术库未覆盖的顾问回复。", noCandidates: "暂无候选话术。",
    variants: "{n} 种说法",
  },
  sop: {
    upload: "上传话术库", uploadHint: "JSONL，每行一条话术（id、stage、scenario、text）；同名上传即为新版本。",
    name: "名称", file: "文件", orPaste: "或粘贴 JSONL", uploadButton: "上传", emptyBody: "请选择文件或粘贴内容。",
    uploaded: "{name} v{version} 已上传（{n} 条）", versions: "版本", version: "版本", scripts: "话术数", activeFor: "启用于",
    created: "上传时间", none: "还没有话术库。", view: "查看", activate: "启用", activateTeam: "团队（* 表示所有未单独设置的团队）",
    activated: "{name} v{version} 已启用", everyone: "全部", from: "旧版本", to: "新版本", compare: "对比",
    diff: "版本差异", added: "新增 {n}", removed: "删除 {n}", changed: "修改 {n}", same: "未变 {n}", identical: "两个版本内容相同。",
    addedTitle: "新增话术", removedTitle: "删除的话术", changedTitle: "修改的话术", scenario: "场景", text: "话术",
  },
  keys: {
    create: "创建密钥", createButton: "创建", role: "角色", name: "名称", namePlaceholder: "质检-王", repId: "顾问 ID",
    repHint: "顾问密钥只能看到该顾问的会话。", team: "团队", teamHint: "质检 / 培训密钥限定团队；留空则可见全部。",
    once: "请立即保存这把密钥——它只显示这一次：", list: "全部密钥", prefix: "前缀", created: "创建时间", revoke: "吊销",
    confirmRevoke: "吊销密钥“{name}”？使用它的人将立即无法访问。", revoked: "密钥已吊销。", revokedAt: "已于 {at} 吊销",
    yours: "当前使用中",
  },
  alerts: {
    add: "新增告警规则", addButton: "添加", hint: "新标记达到最低分时，推送到企业微信 / 钉钉 / 飞书群机器人。",
    anyTeam: "全部团队", format: "机器人", url: "Webhook 地址", wecom: "企业微信", dingtalk: "钉钉", feishu: "飞书",
    list: "告警规则", none: "还没有告警规则。", deliveries: "推送", counts: "成功 {sent} · 等待 {pending} · 失败 {failed}", delete: "删除", added: "规则已添加。",
    confirmDelete: "删除这条规则及其未发送的推送？",
  },
  labels: {
    stage: { greeting: "打招呼", rapport: "破冰", needs: "需求挖掘", pitch: "产品介绍", quote: "报价", objection: "异议处理", close: "促成", after_sale: "售后" },
    funnel: { silent: "未回复", engaged: "已互动", quoted: "已报价", won: "已成交", repeat: "复购" },
    flag: { insult: "辱骂", side_order: "私单", false_promise: "虚假承诺", privacy: "隐私泄露", complaint: "投诉风险" },
    role: { rep: "顾问", qa: "质检", trainer: "培训", admin: "管理员" },
    status: { open: "待复核", confirmed: "已确认", dismissed: "已驳回" },
    verdict: { accepted: "已采用", edited: "编辑后采用", rejected: "已拒绝", confirmed: "确认", dismissed: "驳回", added: "补充" },
    job: { queued: "排队中", running: "进行中", done: "已完成", failed: "失败" },
    sender: { rep: "顾问", customer: "客户" },
    msgType: { image: "图片", video: "视频", file: "文件", voice: "语音", link: "链接", sticker: "表情", text: "文字" },
  },
};

const en = {
  app: { nav: "Navigation", signOut: "Sign out", switchLang: "切换到中文" },
  nav: { chats: "Chats", qa: "Review queue", audits: "Audits", report: "Daily report", examples: "Examples", candidates: "Script candidates", sop: "SOP libraries", keys: "Keys", alerts: "Alert rules" },
  signin: {
    intro: "Chat coaching: funnel stages, QA flags and SOP reply suggestions.", key: "API key", submit: "Sign in",
    hint: "An admin creates keys with chatcoach keys create; the key is kept in this tab only.",
    bad: "Unknown or revoked key.", expired: "Your session ended (the key is unknown or revoked). Please sign in again.",
  },
  common: {
    apply: "Apply", cancel: "Cancel", save: "Save", more: "Load more", loading: "Loading…", copied: "Copied",
    unavailable: "Not available on this server yet.",
  },
  rep: {
    chats: "My chats", allChats: "All chats", nMessages: "{n} msgs", noChats: "No chats yet.", pickChat: "Pick a chat on the left.", back: "Back to the chats",
    sender: "Sender", asRep: "Me (rep)", asCustomer: "Customer", placeholder: "Type a reply…", send: "Send", sendAnyway: "Send anyway",
    sendHint: "Ctrl+Enter sends", draftWarning: "QA would flag this reply", draftWarningHint: "Please rephrase; if you really must, press “Send anyway”.",
    sentFlagged: "Sent, but the message was flagged.", suggestions: "Suggested replies", getSuggestions: "Suggest", refreshSuggestions: "Suggest for the chat as it is now",
    noSuggestions: "Suggestions come after a customer message, or press “Suggest”.", noLibrary: "Your team has no active SOP library yet.",
    copy: "Copy", accept: "Use", edit: "Edit", reject: "Not right", score: "Match",
    editHint: "In the composer: edit and send, it is recorded as edited.",
  },
  qa: {
    queue: "Queue", status: "Status", flag: "Flag", rep: "Rep", since: "Since", minScore: "Min score", allFlags: "All flags",
    shortcuts: "Keys: j / k move · c confirm · d dismiss · a add a missed flag", readOnly: "Read only: reviews need a QA or admin key.",
    empty: "The queue is empty.", nothingSelected: "Pick a flag to see its context.", evidence: "Evidence", comment: "Comment (optional)",
    confirm: "Confirm", dismiss: "Dismiss", addMissed: "Add missed flag", message: "Message", missedAdded: "Missed flag added.",
    reviewed: "Marked {verdict}",
  },
  audit: {
    new: "New audit", hint: "With no filter, every chat you may see is audited.", since: "From", until: "To", reps: "Rep ids (comma separated)",
    chats: "Chat ids (comma separated)", start: "Start audit", started: "Queued: {total} chats", job: "Job", status: "Status",
    progress: "Progress", created: "Created", recent: "Recent audits", none: "No audits yet.", rate: "{rate} chats/s",
    eta: "about {eta} left", funnel: "Funnel", flags: "Flagged messages", errors: "Errors", toQueue: "Review them in the queue",
  },
  report: {
    date: "Date", team: "Team", allTeams: "All teams", chats: "Chats", reps: "Reps", sla: "Replied within 5 min", followupsMissed: "Follow-ups missed",
    suggestionsServed: "Suggestions served", empty: "No chats that day.", funnelByRep: "Funnel by rep", flagsByType: "Flags by type",
    slaByRep: "Reply-time SLA by rep", flagsOverTime: "Flags over the last 7 days", rep: "Rep", flags: "Flags", medianFirst: "Median first response",
    acceptance: "Suggestion acceptance",
  },
  trainer: {
    stage: "Stage", outcome: "Outcome", industry: "Industry", limit: "Limit", allStages: "All stages", anyOutcome: "Won or repeat",
    examplesHint: "Excerpts of real chats that ended won / repeat with no flag, best first.", noExamples: "No examples match.",
    score: "Example score", candidatesHint: "Rep replies that recur in successful chats but no active script covers.", noCandidates: "No candidates yet.",
    variants: "{n} variants",
  },
  sop: {
    upload: "Upload a library", uploadHint: "JSONL, one script a line (id, stage, scenario, text); the same name again makes a new version.",
    name: "Name", file: "File", orPaste: "or paste JSONL", uploadButton: "Upload", emptyBody: "Choose a file or paste the scripts.",
    uploaded: "{name} v{version} uploaded ({n} scripts)", versions: "Versions", version: "Version", scripts: "Scripts", activeFor: "Active for",
    created: "Uploaded", none: "No libraries yet.", view: "View", activate: "Activate", activateTeam: "Team (* for every team without its own)",
    activated: "{name} v{version} is active", everyone: "everyone", from: "From", to: "To", compare: "Compare",
    diff: "Diff", added: "{n} added", removed: "{n} removed", changed: "{n} changed", same: "{n} unchanged", identical: "The two versions are the same.",
    addedTitle: "Added", removedTitle: "Removed", changedTitle: "Changed", scenario: "Scenario", text: "Script",
  },
  keys: {
    create: "Create a key", createButton: "Create", role: "Role", name: "Name", namePlaceholder: "QA Wang", repId: "Rep id",
    repHint: "A rep key sees that rep's chats only.", team: "Team", teamHint: "Scopes a QA / trainer key to one team; empty: all.",
    once: "Save this key now — it is shown only once:", list: "All keys", prefix: "Prefix", created: "Created", revoke: "Revoke",
    confirmRevoke: "Revoke the key “{name}”? Whoever uses it loses access at once.", revoked: "Key revoked.", revokedAt: "revoked {at}",
    yours: "in use by you",
  },
  alerts: {
    add: "New alert rule", addButton: "Add", hint: "New flags at or above the minimum score are posted to a WeCom / DingTalk / Feishu group robot.",
    anyTeam: "Any team", format: "Robot", url: "Webhook URL", wecom: "WeCom", dingtalk: "DingTalk", feishu: "Feishu",
    list: "Alert rules", none: "No alert rules yet.", deliveries: "Deliveries", counts: "{sent} sent · {pending} pending · {failed} failed", delete: "Delete", added: "Rule added.",
    confirmDelete: "Delete this rule and its unsent deliveries?",
  },
  labels: {
    stage: { greeting: "Greeting", rapport: "Rapport", needs: "Needs", pitch: "Pitch", quote: "Quote", objection: "Objection", close: "Close", after_sale: "After-sale" },
    funnel: { silent: "Silent", engaged: "Engaged", quoted: "Quoted", won: "Won", repeat: "Repeat" },
    flag: { insult: "Insult", side_order: "Side order", false_promise: "False promise", privacy: "Privacy", complaint: "Complaint" },
    role: { rep: "Rep", qa: "QA", trainer: "Trainer", admin: "Admin" },
    status: { open: "Open", confirmed: "Confirmed", dismissed: "Dismissed" },
    verdict: { accepted: "Used", edited: "Edited", rejected: "Rejected", confirmed: "Confirmed", dismissed: "Dismissed", added: "Added" },
    job: { queued: "Queued", running: "Running", done: "Done", failed: "Failed" },
    sender: { rep: "Rep", customer: "Customer" },
    msgType: { image: "image", video: "video", file: "file", voice: "voice", link: "link", sticker: "sticker", text: "text" },
  },
};

const DICTS = { zh, en };
const STORE = "cc.lang";

export function getLang() {
  const lang = localStorage.getItem(STORE);
  return lang in DICTS ? lang : "zh";
}

export function setLang(lang) {
  localStorage.setItem(STORE, lang);
}

function lookup(dict, path) {
  return path.split(".").reduce((node, part) => (node && typeof node === "object" ? node[part] : undefined), dict);
}

// t("rep.nMessages", {n: 3}); a missing key falls back to Chinese, then to the key itself.
export function t(key, vars) {
  const text = lookup(DICTS[getLang()], key) ?? lookup(zh, key) ?? key;
  return vars ? text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m)) : text;
}

// Names of API values (stages, flags, …); an unknown value shows as itself.
export function label(group, value) {
  return lookup(DICTS[getLang()], `labels.${group}.${value}`) ?? value;
}

export const dictionaries = DICTS; // for the test that checks both languages have the same keys
