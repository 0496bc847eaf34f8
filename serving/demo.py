"""Demo data for the service: the bundled demo chats, their SOP library and one key per role."""

from __future__ import annotations

from chatcoach.demo import DEMO_DIR
from chatcoach.jsonl import read_chats, read_sop
from chatcoach.serving import store
from chatcoach.serving.keys import create_key

DEMO_KEYS = [("admin", None, None), ("qa", None, "demo"), ("trainer", None, None)]


def seed(db, pipeline) -> dict[str, str]:
    """Load demo chats and library into `db`; returns freshly made demo keys by role."""
    chats = [r.item for r in read_chats(DEMO_DIR / "chats.jsonl") if r.ok]
    scripts = read_sop(DEMO_DIR / "sop.jsonl")
    analyses = pipeline.analyze(chats)
    keys = {}
    with db.session() as session:
        for chat, analysis in zip(chats, analyses):
            store.save_chat(session, chat, analysis, team="demo")
        library = store.add_library(session, "demo", scripts)
        store.activate_library(session, library, "*")
        for role, rep_id, team in DEMO_KEYS:
            keys[role] = create_key(session, role, name=f"demo {role}", rep_id=rep_id, team=team).secret
        rep_id = next((c.rep_id for c in chats if c.rep_id), "demo-rep")
        keys[f"rep ({rep_id})"] = create_key(session, "rep", name="demo rep", rep_id=rep_id).secret
    return keys
