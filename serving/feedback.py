"""Reviewed flags and suggestion feedback, exported as contract JSONL for training (`"source": "feedback"`).

Chats: every stored chat with at least one review, labelled with the analyzer's stages and funnel
and with flags as the reviewers corrected them (dismissed removed, confirmed and added kept).
Only the flags are human judgements; the stages are the model's own and so teach it nothing new.
Cases (contract §6): every accepted or edited suggestion on a stored chat, its context being the
chat up to the message it answered; the gold text is what the rep actually sent.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatcoach.contract import FLAGS
from chatcoach.serving.tables import ChatRow, Feedback, FlagReview, FlagRow, SopLibrary, Suggestion

SUFFIX = "#feedback"  # keeps exported ids apart from the corpus's own chat ids


def feedback_chats(session: Session) -> list[dict]:
    reviewed = select(FlagRow.chat_id).join(FlagReview, FlagReview.flag_id == FlagRow.id).distinct()
    out = []
    for row in session.scalars(select(ChatRow).where(ChatRow.chat_id.in_(reviewed)).order_by(ChatRow.chat_id)):
        if not row.analysis:
            continue
        flags = {(f.message_id, f.flag): f.status for f in session.scalars(select(FlagRow).where(FlagRow.chat_id == row.chat_id))}
        analysed = {m["id"]: m for m in row.analysis["messages"]}
        messages = []
        for m in row.chat["messages"]:
            predicted = analysed.get(m["id"], {})
            kept = [f for f in FLAGS if flags.get((m["id"], f), "open" if f in predicted.get("flags", []) else None)
                    in ("open", "confirmed")]
            messages.append({**m, "stage": predicted.get("stage", "rapport"), "flags": kept})
        out.append({**row.chat, "chat_id": row.chat_id + SUFFIX, "funnel": row.analysis["funnel"],
                    "source": "feedback", "messages": messages})
    return out


def feedback_cases(session: Session) -> tuple[list[dict], int]:
    """(cases, how many accepted/edited suggestions could not be rebuilt: chat not stored)."""
    rows = session.execute(select(Suggestion, Feedback).join(Feedback, Feedback.suggestion_id == Suggestion.id)
                           .where(Feedback.verdict.in_(("accepted", "edited"))).order_by(Feedback.id))
    cases, missing = [], 0
    for suggestion, fb in rows:
        chat = session.get(ChatRow, suggestion.chat_id)
        ids = [m["id"] for m in chat.chat["messages"]] if chat else []
        if chat is None or suggestion.after_message_id not in ids:
            missing += 1
            continue
        library = session.get(SopLibrary, suggestion.library_id) if suggestion.library_id else None
        context = chat.chat["messages"][: ids.index(suggestion.after_message_id) + 1]
        cases.append({
            "chat_id": f"{chat.chat_id}@{suggestion.after_message_id}{SUFFIX}", "source_chat_id": chat.chat_id,
            "industry": chat.industry, "library": library.name if library else None,
            **{k: chat.chat[k] for k in ("rep_name", "customer_name") if k in chat.chat},
            "messages": context, "gold_sop_ids": [suggestion.sop_id],
            "gold_text": fb.final_text or suggestion.text, "source": "feedback", "verdict": fb.verdict,
        })
    return cases, missing
