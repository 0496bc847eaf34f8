"""The FastAPI application: one Pipeline, one Database, thin routers."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException

from chatcoach import __version__
from chatcoach.config import Settings, get_settings
from chatcoach.serving.audits import start_background_worker
from chatcoach.serving.db import Database, migrate
from chatcoach.serving.routes import alerts, analysis, audits, chats, console, flags, health, ingest, keys, reports, sop


def _error(status: int, detail) -> JSONResponse:
    body = detail if isinstance(detail, dict) else {"message": detail}
    return JSONResponse({"error": body}, status_code=status)


def create_app(settings: Settings | None = None, pipeline=None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        """Audit jobs and alert deliveries are worked by a thread here unless a separate worker does it."""
        if not settings.inprocess_worker:
            yield
            return
        thread, stop = start_background_worker(app.state.db, app.state.pipeline, settings.audit_batch_size, settings.public_url)
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=30)

    app = FastAPI(title="ChatCoach API", version=__version__, lifespan=lifespan,
                  description="Funnel stages, QA flags and SOP reply suggestions for private-domain sales chats.")
    migrate(settings.database_url)
    app.state.db = Database(settings.database_url)
    app.state.settings = settings
    if pipeline is None:
        from chatcoach.pipeline import Pipeline

        pipeline = Pipeline.load(settings)
    pipeline.load_suggestion_encoder()  # at start-up, so that no rep's first request waits for it
    app.state.pipeline = pipeline
    registry = CollectorRegistry()
    app.state.registry = registry
    requests = Counter("chatcoach_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry)
    latency = Histogram("chatcoach_request_seconds", "HTTP request latency", ["route"], registry=registry)

    @app.middleware("http")
    async def limits_and_metrics(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_body_bytes:
            return _error(413, f"request body over {settings.max_body_bytes} bytes")
        if "\x00" in request.scope["path"] or b"%00" in request.scope["query_string"]:
            # the ids in a URL reach Postgres text columns, which cannot hold a NUL
            return _error(422, "the URL must not contain a NUL (%00) character")
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        requests.labels(request.method, path, response.status_code).inc()
        latency.labels(path).observe(time.perf_counter() - start)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request, exc: StarletteHTTPException):
        response = _error(exc.status_code, exc.detail)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request, exc: RequestValidationError):
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        return _error(422, {"message": "the request does not match the API", "errors": errors})

    for module in (health, keys, analysis, chats, sop, ingest, audits, flags, reports, alerts, console):
        app.include_router(module.router)
    return app
