"""The one Pipeline: encoder → stage / funnel / flag heads → company rules, and the suggester.

CLI, API, batch audits and evaluation all call :meth:`Pipeline.analyze` and
:meth:`Pipeline.suggest`; there is no second code path.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np

from chatcoach.config import Settings, get_settings
from chatcoach.contract import FLAGS, FUNNELS, ROLE, STAGES, Chat, SopScript
from chatcoach.jsonl import Record
from chatcoach.models.features import ChatFeatures, featurise
from chatcoach.models.flags import FlagDetector
from chatcoach.models.funnel import FunnelClassifier
from chatcoach.models.rules import HotRules, RuleSet, with_same_sender_before
from chatcoach.models.sop_index import SopIndex, library_hash
from chatcoach.models.stage import StageTagger
from chatcoach.models.suggester import Suggester

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
ARTIFACT_FORMAT = 3  # 2: suggestion fusion over the fine-tuned suggestion encoder; 3: the fusion is listwise


def _scores(labels, row) -> dict[str, float]:
    return {label: round(float(p), 4) for label, p in zip(labels, row)}


def _role_encoder(manifest: dict, role: str, base, build_dir):
    """The encoder the ``role`` heads were trained on: ``base`` (plain e5), or the tuned build that
    ``build_dir()`` returns, sharing base's word embeddings.

    A tuned build is checked against the fingerprint in the manifest. Setup fine-tunes the encoders
    on each machine, and another CPU can round differently and end a few hundred steps elsewhere;
    the heads usually cope, but `chatcoach train` refits them exactly."""
    encoders = manifest.get("encoders", {})
    if encoders.get(role) != "tuned":
        return base
    from chatcoach.models.encoder import Encoder

    encoder = Encoder(build_dir(), share_embeddings_with=base)
    trained_on = encoders.get("fingerprints", {}).get(role)
    if trained_on and trained_on != encoder.fingerprint:
        log.warning("the %s encoder (%s) is not the build the committed heads were trained on (%s); "
                    "results may differ slightly from eval/reports: run `chatcoach train` to refit the heads",
                    role, encoder.fingerprint, trained_on)
    return encoder


@dataclass
class Analyzer:
    """The trained heads and their decision thresholds, saved together as one artifact."""

    stage: StageTagger
    funnel: FunnelClassifier
    flags: FlagDetector
    thresholds: dict[str, float] = field(default_factory=lambda: {f: 0.5 for f in FLAGS})


class Pipeline:
    """Analysis and suggestions over three encoders that share one word-embedding table: plain e5
    (``base_encoder``: mining, baselines), e5 tuned on stages and flags (``encoder``: the analyzer)
    and e5 tuned as a bi-encoder on conversations → scripts (``suggestion_encoder``, on first use).
    The manifest says which of them the committed heads were trained on."""

    def __init__(self, encoder, analyzer: Analyzer, rules: HotRules | RuleSet, manifest: dict | None = None,
                 suggester=None, base_encoder=None, suggestion_encoder=None, settings: Settings | None = None):
        self.encoder = encoder
        self.base_encoder = base_encoder or encoder
        self.analyzer = analyzer
        self._rules = rules
        self.manifest = manifest or {}
        self._suggester = suggester
        self._indexes: dict[str, SopIndex] = {}
        self._suggestion_encoder = suggestion_encoder
        self.settings = settings or get_settings()
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- loading
    @classmethod
    def load(cls, settings: Settings | None = None, encoder=None) -> "Pipeline":
        """The trained pipeline of ``settings.artifacts_dir``; ``encoder``: a plain e5 already loaded, to reuse."""
        settings = settings or get_settings()
        artifacts = Path(settings.artifacts_dir)
        manifest_path = artifacts / MANIFEST
        if not manifest_path.exists():
            raise FileNotFoundError(f"no trained models in {artifacts}: run `chatcoach train` first")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format") != ARTIFACT_FORMAT:
            raise RuntimeError(f"{manifest_path}: artifact format {manifest.get('format')} != {ARTIFACT_FORMAT}; retrain")
        rules = HotRules(settings.rules_path)
        rules.current()  # a rules file that does not load stops start-up, not every analysis after it
        from chatcoach.models.encoder import Encoder
        from chatcoach.training.analyzer_encoder import ensure_analyzer_encoder

        base = encoder or Encoder()
        analyzer_encoder = _role_encoder(manifest, "analyzer", base,
                                         lambda: ensure_analyzer_encoder(settings, rebuild_stale=False))
        analyzer = joblib.load(artifacts / manifest["analyzer"])
        suggester = joblib.load(artifacts / manifest["suggester"]) if manifest.get("suggester") else None
        return cls(analyzer_encoder, analyzer, rules, manifest, suggester,
                   base_encoder=base, settings=settings)

    @property
    def rules(self) -> RuleSet:
        return self._rules.current() if isinstance(self._rules, HotRules) else self._rules

    @property
    def rules_error(self) -> str | None:
        """Why the rules file's latest edit did not load (the rules before it stay in force)."""
        if not isinstance(self._rules, HotRules):
            return None
        self._rules.current()  # notices an edit made since the last analysis
        return self._rules.error

    # ---------------------------------------------------------------- analysis
    def featurise(self, chats: list[Chat], progress: bool = False) -> list[ChatFeatures]:
        return featurise(self.encoder, chats, progress=progress)

    def analyze(self, chats: list[Chat], progress: bool = False) -> list[dict]:
        """Contract §7 analysis for each chat, in order."""
        if not chats:
            return []
        feats = self.featurise(chats, progress=progress)
        head_probas = self.analyzer.stage.head_proba(feats)
        stage_probas = self.analyzer.stage.sequence_proba(feats, head_probas)
        # the sequence layers serve the per-message labels; the funnel reads the head's own posteriors
        # (better on dev and in train cross-validation: eval/README.md, "The funnel change")
        funnel_probas = self.analyzer.funnel.predict_proba(feats, head_probas)
        flag_probas = self.analyzer.flags.predict_proba(feats)
        rules = self.rules
        return [
            self._chat_result(chat, f.chat, sp, fp, fl, rules)
            for chat, f, sp, fp, fl in zip(chats, feats, stage_probas, funnel_probas, flag_probas)
        ]

    def analyze_records(self, records: Iterable[Record[Chat]], progress: bool = False) -> list[dict]:
        """Like :meth:`analyze`, but a record that broke the contract yields its error in place."""
        records = list(records)
        good = [r.item for r in records if r.ok]
        results = iter(self.analyze(good, progress=progress))
        return [next(results) if r.ok else r.error.as_result() for r in records]

    # ------------------------------------------------------------- suggestions
    @property
    def suggestion_encoder(self):
        """The encoder of conversations and scripts for suggestions: e5 fine-tuned as a bi-encoder on
        the training cases (built at setup), sharing the analyzer encoder's word embeddings.
        Loaded on first use, so that analysis alone never pays for it."""
        return self.load_suggestion_encoder()

    def load_suggestion_encoder(self):
        if self._suggestion_encoder is None:
            with self._lock:
                if self._suggestion_encoder is None:
                    from chatcoach.training.biencoder import ensure_suggestion_encoder

                    self._suggestion_encoder = _role_encoder(
                        self.manifest, "suggestion", self.base_encoder,
                        lambda: ensure_suggestion_encoder(self.settings, base=self.base_encoder, rebuild_stale=False))
        return self._suggestion_encoder

    @property
    def suggester(self) -> Suggester:
        if self._suggester is None:
            self._suggester = Suggester()  # untrained: dense similarity only
        return self._suggester

    def sop_index(self, scripts: list[SopScript]) -> SopIndex:
        """The index of a library, reused while the library is unchanged (keyed by content hash)."""
        key = library_hash(scripts)
        if key not in self._indexes:
            self._indexes[key] = SopIndex(scripts, self.suggestion_encoder)
        return self._indexes[key]

    def stage_hints(self, chats: list[Chat], window: int = 8, analyses: list[dict] | None = None) -> list[np.ndarray]:
        """Where each chat stands, as the analyzer reads its last ``window`` messages: [4, stages] per
        chat, the stage posteriors of the last message and of the one before (zeros for a chat of one
        message), and their mean and maximum over the window: how far the chat has come (a quote
        made, a payment confirmed) and where it has dwelt.

        Chosen on dev with the suggester refitted (stop 22). Before, the hint was the last two
        posteriors of a four-message window. Adding the mean and maximum took next-stage accuracy
        0.747 → 0.777 and R@3 0.603 → 0.628 (MRR@5 0.498 → 0.513) over 8 messages; 12, 16 and 40 gave
        the same (R@3 0.628 / 0.628 / 0.626), 4 gave 0.615, and the last two posteriors alone over
        the whole chat 0.601. Eight costs a cold request twice the analyzer inputs of four.
        ``analyses``: these chats' contract §7 analyses when already made (the live service analyses
        each message as it arrives), whose stage scores are then read instead of computed again."""
        if analyses is None:
            tails = [c.model_copy(update={"messages": c.messages[-window:]}) for c in chats]
            posteriors = self.analyzer.stage.predict_proba(self.featurise(tails))
        else:
            posteriors = [np.array([[m["stage_scores"][s] for s in STAGES] for m in a["messages"][-window:]]) for a in analyses]
        return [np.stack([p[-1], p[-2] if len(p) > 1 else np.zeros_like(p[-1]), p.mean(axis=0), p.max(axis=0)]) for p in posteriors]

    def suggest(self, chats: list[Chat], scripts: list[SopScript] | SopIndex, k: int = 5,
                analyses: list[dict] | None = None) -> list[dict]:
        """Contract §7 suggestions: the k scripts that best fit each chat's next rep reply
        (``analyses``: as in :meth:`stage_hints`)."""
        if not chats:
            return []
        index = scripts if isinstance(scripts, SopIndex) else self.sop_index(scripts)
        queries = self.suggester.queries(self.suggestion_encoder, chats, self.stage_hints(chats, analyses=analyses))
        return [self.suggester.suggest(index, c, q, k) for c, q in zip(chats, queries)]

    def suggest_records(self, records: Iterable[Record[Chat]], scripts, k: int = 5) -> list[dict]:
        records = list(records)
        results = iter(self.suggest([r.item for r in records if r.ok], scripts, k))
        return [next(results) if r.ok else r.error.as_result() for r in records]

    def _chat_result(self, chat: Chat, read: Chat, stage_proba, funnel_proba, flag_proba, rules: RuleSet) -> dict:
        """``read``: the chat as the models and rules read it (``read_chat``); evidence quotes ``chat``."""
        messages = []
        raised: list[str] = []  # the flags of the message before, when the loop reads the next
        for (m, before), written, s_row, f_row in zip(with_same_sender_before(read.messages), chat.messages,
                                                      stage_proba, flag_proba):
            scores = {flag: float(p) for flag, p in zip(FLAGS, f_row)}
            flagged_before = raised if before is not None else ()
            evidence = []
            raised = []
            hits = [h for h in rules.match(m, before, flagged_before) if ROLE[h.rule.flag] == m.sender]
            for hit in (h for h in hits if not h.rule.veto):
                flag = hit.rule.flag
                scores[flag] = max(scores[flag], hit.rule.score)
                if flag not in raised:
                    raised.append(flag)
                    evidence.append({"flag": flag, "text": written.text[hit.start:hit.end], "start": hit.start, "end": hit.end,
                                     "source": "rule", "rule": hit.rule.id, "severity": hit.rule.severity})
            # a retraction or a warning overrules the model's score (a rule that raises the flag wins)
            vetoed = {h.rule.flag for h in hits if h.rule.veto} - set(raised)
            for hit in (h for h in hits if h.rule.veto and h.rule.flag in vetoed):
                scores[hit.rule.flag] = min(scores[hit.rule.flag], 1 - hit.rule.score)
            for flag in FLAGS:
                if flag not in raised and flag not in vetoed and ROLE[flag] == m.sender \
                        and f_row[FLAGS.index(flag)] >= self.analyzer.thresholds[flag]:
                    raised.append(flag)
                    start, end = self.analyzer.flags.evidence_span(flag, m.text)
                    evidence.append({"flag": flag, "text": written.text[start:end], "start": start, "end": end, "source": "model"})
            messages.append({
                "id": m.id,
                "stage": STAGES[int(np.argmax(s_row))],
                "stage_scores": _scores(STAGES, s_row),
                "flags": [f for f in FLAGS if f in raised],
                "flag_scores": {f: round(scores[f], 4) for f in FLAGS},
                "evidence": evidence,
            })
        return {
            "chat_id": chat.chat_id,
            "funnel": FUNNELS[int(np.argmax(funnel_proba))],
            "funnel_scores": _scores(FUNNELS, funnel_proba),
            "messages": messages,
        }
