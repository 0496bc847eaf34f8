"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", summary="Models loaded and database reachable")
def readyz(request: Request, response: Response) -> dict:
    state = request.app.state
    checks = {"models": state.pipeline is not None}
    try:
        with state.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:  # noqa: BLE001 - readiness reports any failure as not ready
        checks["database"] = False
    ready = all(checks.values())
    response.status_code = 200 if ready else 503
    # a broken rules edit leaves the previous rules in force: still ready, but said here
    return {"status": "ready" if ready else "not ready", **checks,
            "models_data_hash": state.pipeline.manifest.get("data_hash") if state.pipeline else None,
            "rules_error": state.pipeline.rules_error if state.pipeline else None}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)
