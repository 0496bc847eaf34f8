"""Company rules on top of the models: keywords, regexes, exclusions, role scope, severity.

A rules file (YAML or JSON) is the company's own lexicon: the built-in default
(models/rules/default.yaml) covers disguised side-order forms and message-type
rules; a company points ``CHATCOACH_RULES_PATH`` at its own. The file is
re-read whenever it changes on disk, so QA can edit it without a restart.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import yaml

from chatcoach.contract import FLAGS, Message

SEVERITY_SCORE = {"high": 0.97, "medium": 0.9, "low": 0.8}
_URL = re.compile(r"https?://[^\s，。]+")


@dataclass
class Rule:
    id: str
    flag: str
    role: str
    severity: str = "high"
    keywords: list[str] = field(default_factory=list)
    patterns: list[re.Pattern] = field(default_factory=list)
    exclude: list[re.Pattern] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    unofficial_links: bool = False
    after_flagged: bool = False
    exclude_before: list[re.Pattern] = field(default_factory=list)

    def applies(self, message: Message, before: Message | None, flagged_before: Collection[str]) -> bool:
        if self.role != message.sender or any(p.search(message.text) for p in self.exclude):
            return False
        if before is not None and any(p.search(before.text) for p in self.exclude_before):
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


class RuleSet:
    def __init__(self, rules: list[Rule], official_domains: list[str] | None = None):
        self.rules = rules
        self.official_domains = [d.lower() for d in (official_domains or [])]

    @classmethod
    def from_dict(cls, spec: dict) -> "RuleSet":
        rules = []
        for i, raw in enumerate(spec.get("rules", [])):
            rule_id = raw.get("id", f"rule-{i}")
            if raw.get("flag") not in FLAGS:
                raise ValueError(f"rule {rule_id}: flag must be one of {FLAGS}")
            severity = raw.get("severity", "high")
            if severity not in SEVERITY_SCORE:
                raise ValueError(f"rule {rule_id}: severity must be one of {list(SEVERITY_SCORE)}")
            try:
                rules.append(Rule(
                    id=rule_id, flag=raw["flag"], role=raw.get("role", "rep"), severity=severity,
                    keywords=list(raw.get("keywords", [])),
                    patterns=[re.compile(p, re.IGNORECASE) for p in raw.get("patterns", [])],
                    exclude=[re.compile(p, re.IGNORECASE) for p in raw.get("exclude", [])],
                    types=list(raw.get("types", [])), unofficial_links=bool(raw.get("unofficial_links", False)),
                    after_flagged=bool(raw.get("after_flagged", False)),
                    exclude_before=[re.compile(p, re.IGNORECASE) for p in raw.get("exclude_before", [])],
                ))
            except re.error as exc:
                raise ValueError(f"rule {rule_id}: bad regex: {exc}") from exc
        return cls(rules, spec.get("official_domains"))

    @classmethod
    def from_file(cls, path: Path) -> "RuleSet":
        text = Path(path).read_text(encoding="utf-8")
        spec = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
        return cls.from_dict(spec or {})

    def _official(self, url: str) -> bool:
        host = (urlparse(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.official_domains)

    def match(self, message: Message, before: Message | None = None,
              flagged_before: Collection[str] = ()) -> list[RuleHit]:
        """The rules this message fires. ``before``: the message right before it when the same
        sender sent it (what ``exclude_before`` reads), ``flagged_before``: the flags raised on
        that message (what ``after_flagged`` rules look at)."""
        hits = []
        text = message.text
        for rule in self.rules:
            if not rule.applies(message, before, flagged_before):
                continue
            hit = None
            for kw in rule.keywords:
                at = text.find(kw)
                if at >= 0:
                    hit = RuleHit(rule, at, at + len(kw), kw)
                    break
            if hit is None:
                for pattern in rule.patterns:
                    m = pattern.search(text)
                    if m:
                        hit = RuleHit(rule, m.start(), m.end(), m.group(0))
                        break
            if hit is None and message.type in rule.types:
                hit = RuleHit(rule, 0, len(text), text)
            if hit is None and rule.unofficial_links and self.official_domains:
                for m in _URL.finditer(text):
                    if not self._official(m.group(0)):
                        hit = RuleHit(rule, m.start(), m.end(), m.group(0))
                        break
            if hit:
                hits.append(hit)
        return hits


def with_same_sender_before(messages: Iterable[Message]) -> Iterator[tuple[Message, Message | None]]:
    """Each message with the one right before it when the same sender sent both, else None."""
    previous = None
    for message in messages:
        yield message, previous if previous is not None and previous.sender == message.sender else None
        previous = message


class HotRules:
    """A RuleSet that reloads itself when its file changes (checked at most once per call)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._rules = RuleSet([])

    def current(self) -> RuleSet:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return self._rules
        if mtime != self._mtime:
            with self._lock:
                if mtime != self._mtime:
                    self._rules = RuleSet.from_file(self.path)
                    self._mtime = mtime
        return self._rules
