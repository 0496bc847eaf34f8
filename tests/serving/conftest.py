"""A real app over a real database (a SQLite file, and PostgreSQL when the test script started one)."""

import os
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from chatcoach.config import Settings
from chatcoach.serving.app import create_app
from chatcoach.serving.keys import create_key


def _postgres_url():
    url = os.environ.get("CHATCOACH_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must run the storage tests on PostgreSQL: use scripts/test.sh")
        pytest.skip("no PostgreSQL (scripts/test.sh starts one)")
    schema_db = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {schema_db}"))
    admin.dispose()
    return url.rsplit("/", 1)[0] + "/" + schema_db


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def app(request, tmp_path_factory, pipeline):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'chatcoach.db'}"
    else:
        url = _postgres_url()
    settings = Settings(database_url=url, max_body_bytes=2_000_000)
    return create_app(settings, pipeline=pipeline)


@pytest.fixture(scope="module")
def pipeline(encoder):
    from chatcoach.pipeline import Pipeline

    return Pipeline.load(encoder=encoder)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def keys(app):
    made = {}
    with app.state.db.session() as s:
        for name, role, rep, team in [("admin", "admin", None, None), ("qa", "qa", None, "north"),
                                      ("trainer", "trainer", None, None), ("rep_a", "rep", "rep-a", None),
                                      ("rep_b", "rep", "rep-b", None)]:
            made[name] = create_key(s, role, name=name, rep_id=rep, team=team).secret
    return made


def auth(key):
    return {"Authorization": f"Bearer {key}"}
