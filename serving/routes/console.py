"""The web console (static pages under serving/console), served by the same app.

Plain routes rather than a StaticFiles mount: a Mount inside an APIRouter is dropped by older
FastAPI's include_router, and these few lines behave the same on every version we allow.
The files are found next to this module's package, so an editable install serves the work tree.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, RedirectResponse

router = APIRouter(include_in_schema=False)

CONSOLE_DIR = (Path(__file__).resolve().parent.parent / "console").resolve()
# Explicit types: the platform's mimetypes table varies (an old one calls .js text/plain,
# which browsers refuse for ES modules).
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon", ".json": "application/json",
         ".txt": "text/plain; charset=utf-8", ".woff2": "font/woff2"}
# Revalidate every time: the console is small and must never run stale JS against a newer API.
HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/console/")


@router.get("/console")
def console_no_slash() -> RedirectResponse:
    return RedirectResponse("/console/")  # relative asset URLs in index.html need the slash


@router.get("/console/{path:path}")
def console_file(path: str) -> FileResponse:
    target = (CONSOLE_DIR / (path or "index.html")).resolve()
    if target.is_dir():
        target = target / "index.html"
    if not target.is_relative_to(CONSOLE_DIR) or not target.is_file() or target.suffix not in TYPES:
        raise HTTPException(404, "Not Found")
    return FileResponse(target, media_type=TYPES[target.suffix], headers=HEADERS)
