"""Company rules on top of the models: keywords, regexes, exclusions, role scope, severity.

A rules file (YAML or JSON) is the company's own lexicon: the built-in default
(models/rules/default.yaml) covers disguised side-order forms and message-type
rules; a company points ``CHATCOACH_RULES_PATH`` at its own. The file is
re-read whenever it changes on disk, so QA can edit it without a restart; an
edit that does not load leaves the rules before it in force. ``rule_reports``
scores each rule on labelled chats (``chatcoach rules check``).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlparse

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from chatcoach.contract import ROLE, Chat, Flag, Message, MessageType, Sender
from chatcoach.models.normalize import HAN, read_chat

log = logging.getLogger(__name__)

Severity = Literal["high", "medium", "low"]
SEVERITY_SCORE: dict[Severity, float] = {"high": 0.97, "medium": 0.9, "low": 0.8}
_URL = re.compile(r"https?://[^\s，。]+")
# spacing or filler between two Chinese characters, the way keyword filters are dodged: 加 我 小 号, 私*单
_GAP = re.compile(rf"(?<=[{HAN}])[\s*·.\-_~|/]+(?=[{HAN}])")


def without_gaps(text: str) -> tuple[str, list[int]]:
    """``text`` with the spacing between Chinese characters taken out, and where each character
    that is left stood in ``text`` (so a match maps back onto what was written)."""
    kept, where, at = [], [], 0
    for gap in _GAP.finditer(text):
        kept.append(text[at:gap.start()])
        where.extend(range(at, gap.start()))
        at = gap.end()
    kept.append(text[at:])
    where.extend(range(at, len(text)))
    return "".join(kept), where


@dataclass
class Rule:
    id: str
    flag: str
    role: str
    severity: Severity = "high"
    keywords: list[str] = field(default_factory=list)
    patterns: list[re.Pattern] = field(default_factory=list)
    exclude: list[re.Pattern] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    unofficial_links: bool = False
    after_flagged: bool = False
    exclude_before: list[re.Pattern] = field(default_factory=list)
    veto: bool = False  # a hit keeps the model from raising the flag instead of raising it

    def applies(self, message: Message, text: str, before_text: str | None, flagged_before: Collection[str]) -> bool:
        """``text``, ``before_text``: the message and the one before as the rules read them (``without_gaps``)."""
        if self.role != message.sender or any(p.search(text) for p in self.exclude):
            return False
        if before_text is not None and any(p.search(before_text) for p in self.exclude_before):
            return False
        return not self.after_flagged or self.flag in flagged_before

    @property
    def score(self) -> float:
        return SEVERITY_SCORE[self.severity]


@dataclass
class RuleHit:
    rule: Rule
    start: int
    end: int
    text: str


def _compile(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"bad regex {pattern!r}: {exc}") from None


Regexes = list[Annotated[re.Pattern, BeforeValidator(_compile)]]


class RuleSpec(BaseModel):
    """One rule as a rules file writes it; unknown keys are errors (a misspelt key would
    otherwise leave a rule that silently never fires)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    id: str | None = None
    flag: Flag
    role: Sender | None = None  # default: whom the contract lets the flag be raised on
    severity: Severity = "high"
    keywords: list[str] = []
    patterns: Regexes = []
    exclude: Regexes = []
    types: list[MessageType] = []
    unofficial_links: bool = False
    after_flagged: bool = False
    exclude_before: Regexes = []
    veto: bool = False

    @model_validator(mode="after")
    def _role_in_scope(self) -> "RuleSpec":
        if self.role is not None and self.role != ROLE[self.flag]:
            raise ValueError(f"role: {self.flag} is raised on {ROLE[self.flag]} messages only")
        return self


class RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    official_domains: list[str] = []
    rules: list[RuleSpec] = []


def _describe(exc: ValidationError, spec) -> str:
    """Pydantic's errors, each named by its rule's id where it has one."""
    lines = []
    for error in exc.errors():
        loc = list(error["loc"])
        where = ".".join(str(p) for p in loc) or "(file)"
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            raw = spec["rules"][loc[1]]
            rule_id = raw.get("id", f"rule-{loc[1]}") if isinstance(raw, dict) else f"rule-{loc[1]}"
            where = ": ".join([f"rule {rule_id}", *([".".join(str(p) for p in loc[2:])] if loc[2:] else [])])
        lines.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(lines)


class RuleSet:
    def __init__(self, rules: list[Rule], official_domains: list[str] | None = None):
        self.rules = rules
        self.official_domains = [d.lower() for d in (official_domains or [])]

    @classmethod
    def from_dict(cls, spec: dict) -> "RuleSet":
        try:
            parsed = RulesFile.model_validate(spec)
        except ValidationError as exc:
            raise ValueError(_describe(exc, spec)) from None
        rules = [Rule(**r.model_dump() | {"id": r.id or f"rule-{i}", "role": r.role or ROLE[r.flag]})
                 for i, r in enumerate(parsed.rules)]
        return cls(rules, parsed.official_domains)

    @classmethod
    def from_file(cls, path: Path) -> "RuleSet":
        text = Path(path).read_text(encoding="utf-8")
        spec = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
        return cls.from_dict(spec or {})

    def _official(self, url: str) -> bool:
        host = (urlparse(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.official_domains)

    def _span(self, rule: Rule, message: Message, text: str) -> tuple[int, int] | None:
        """Where in ``text`` the rule fires: its first keyword, else its first pattern, else the whole
        message for a type it names, else an unofficial link."""
        for kw in rule.keywords:
            if (at := text.find(kw)) >= 0:
                return at, at + len(kw)
        for pattern in rule.patterns:
            if m := pattern.search(text):
                return m.span()
        if message.type in rule.types:
            return 0, len(text)
        if rule.unofficial_links and self.official_domains:
            for m in _URL.finditer(text):
                if not self._official(m.group(0)):
                    return m.span()
        return None

    def match(self, message: Message, before: Message | None = None,
              flagged_before: Collection[str] = ()) -> list[RuleHit]:
        """The rules this message fires. ``before``: the message right before it when the same
        sender sent it (what ``exclude_before`` reads), ``flagged_before``: the flags raised on
        that message (what ``after_flagged`` rules look at)."""
        hits = []
        text, where = without_gaps(message.text)
        before_text = without_gaps(before.text)[0] if before is not None else None
        for rule in self.rules:
            if rule.applies(message, text, before_text, flagged_before) and (span := self._span(rule, message, text)):
                # the span of what was read, mapped back onto the message as written
                start, end = (where[span[0]], where[span[1] - 1] + 1) if span[1] > span[0] else (0, 0)
                hits.append(RuleHit(rule, start, end, message.text[start:end]))
        return hits


def with_same_sender_before(messages: Iterable[Message]) -> Iterator[tuple[Message, Message | None]]:
    """Each message with the one right before it when the same sender sent both, else None."""
    previous = None
    for message in messages:
        yield message, previous if previous is not None and previous.sender == message.sender else None
        previous = message


@dataclass
class RuleReport:
    """How one rule does on labelled chats: its hits, and how many are right (carry its flag; for
    a veto rule, do not carry it)."""

    rule: Rule
    hits: int = 0
    right: int = 0
    wrong: list[str] = field(default_factory=list)  # "chat_id/message_id: text" of the false alarms

    @property
    def precision(self) -> float | None:
        return self.right / self.hits if self.hits else None


def rule_reports(rules: RuleSet, chats: Iterable[Chat]) -> list[RuleReport]:
    """Each rule against labelled chats, read as the pipeline reads them. ``after_flagged`` rules
    read the labels of the message before (in the pipeline they read what was raised on it)."""
    reports = {rule.id: RuleReport(rule) for rule in rules.rules}
    for chat in chats:
        for message, before in with_same_sender_before(read_chat(chat).messages):
            flagged_before = (before.flags or []) if before is not None else ()
            for hit in rules.match(message, before, flagged_before):
                report = reports[hit.rule.id]
                report.hits += 1
                if (hit.rule.flag in (message.flags or [])) != hit.rule.veto:
                    report.right += 1
                else:
                    report.wrong.append(f"{chat.chat_id}/{message.id}: {message.text}")
    return list(reports.values())


class HotRules:
    """A RuleSet that reloads itself when its file changes (checked at most once per call).

    QA edits the file live, so a broken edit must not stop analysis: the rules that last loaded
    stay in force, and the error is logged and kept in ``error`` until the file is fixed. A file
    that never loaded (missing, or broken from the start) is an error at once."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._rules: RuleSet | None = None
        self.error: str | None = None

    def current(self) -> RuleSet:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            if self._rules is None:
                raise FileNotFoundError(f"rules file {self.path} not found (CHATCOACH_RULES_PATH)") from None
            self.error = f"{self.path}: file removed; the rules loaded before stay in force"
            return self._rules
        if mtime != self._mtime:
            with self._lock:
                if mtime != self._mtime:
                    self._reload(mtime)
        return self._rules

    def _reload(self, mtime: float) -> None:
        try:
            rules = RuleSet.from_file(self.path)
        except (ValueError, yaml.YAMLError) as exc:  # json.JSONDecodeError is a ValueError
            if self._rules is None:
                raise ValueError(f"{self.path}: {exc}") from exc
            self.error = f"{self.path}: {exc}"
            log.warning("rules file not reloaded, the rules loaded before stay in force: %s", self.error)
        else:
            self._rules, self.error = rules, None
        self._mtime = mtime
