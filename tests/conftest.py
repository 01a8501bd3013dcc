"""Fixtures: a migrated, seeded database per test on SQLite (default) or PostgreSQL, role clients, a real worker.

The databases are built once per session through the real migrations and
seed loaders, then copied for each test (a file copy on SQLite, CREATE
DATABASE ... TEMPLATE on PostgreSQL), so every test starts from the seeded
state and nothing leaks between tests.

PostgreSQL and Redis come from TEST_DATABASE_URL / TEST_REDIS_URL (set by
.ci/run). Without them those tests skip locally; with CI=true they fail.
"""
import html as html_module
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.config import ROOT, TestConfig
from portal.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = ("sqlite", "postgresql")


def need(value, what):
    if not value:
        if IN_CI:
            pytest.fail(f"{what} is not set: CI must run these tests")
        pytest.skip(f"{what} is not set")


def pytest_configure(config):
    config.addinivalue_line("markers", "both_databases: run the test on SQLite and on PostgreSQL")
    config.addinivalue_line("markers", "worker: needs Redis and a real Celery worker")
    config.addinivalue_line("markers", "browser: drives Chromium through Playwright")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        marked = metafunc.definition.get_closest_marker("both_databases")
        metafunc.parametrize("backend", BACKENDS if marked else ("sqlite",), indirect=True)


def build(app):
    """Apply the migrations and load the seed data, as `make run` does."""
    from flask_migrate import upgrade

    from portal.maintenance import load_seed

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        load_seed(demo_accounts=True)
        db.session.commit()
        db.engine.dispose()


def pg_admin_url(database="postgres"):
    parts = urlsplit(PG_URL)
    return urlunsplit(parts._replace(path=f"/{database}"))


def pg_execute(sql):
    engine = sa.create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(sql))
    engine.dispose()


_counter = itertools.count()


class Databases:
    """Seeded template databases, copied per test."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.sqlite_template = None
        self.pg_template = None
        self.created = []

    def sqlite(self):
        if self.sqlite_template is None:
            self.sqlite_template = self.tmp / "template.db"
            build(create_app(TestConfig(database_url=f"sqlite:///{self.sqlite_template}")))
        copy = self.tmp / f"test-{next(_counter)}.db"
        shutil.copyfile(self.sqlite_template, copy)
        return f"sqlite:///{copy}"

    def postgresql(self):
        need(PG_URL, "TEST_DATABASE_URL")
        if self.pg_template is None:
            self.pg_template = f"portal_tpl_{os.getpid()}"
            pg_execute(f"DROP DATABASE IF EXISTS {self.pg_template}")
            pg_execute(f"CREATE DATABASE {self.pg_template}")
            self.created.append(self.pg_template)
            build(create_app(TestConfig(database_url=pg_admin_url(self.pg_template))))
        name = f"portal_t{os.getpid()}_{next(_counter)}"
        pg_execute(f"CREATE DATABASE {name} TEMPLATE {self.pg_template}")
        self.created.append(name)
        return pg_admin_url(name)

    def drop(self, url):
        if url.startswith("postgresql"):
            name = urlsplit(url).path.lstrip("/")
            pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            self.created.remove(name)

    def cleanup(self):
        for name in reversed(self.created):
            pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    dbs = Databases(tmp_path_factory.mktemp("databases"))
    yield dbs
    dbs.cleanup()


@pytest.fixture
def backend(request):
    return request.param


@pytest.fixture
def database_url(databases, backend):
    url = getattr(databases, backend)()
    yield url
    databases.drop(url)


@pytest.fixture
def make_app(database_url):
    """Build an app on this test's database; extra settings as keyword arguments."""
    apps = []

    def make(redis_url=None, **settings):
        config = TestConfig(database_url=database_url, redis_url=redis_url)
        for key, value in settings.items():
            setattr(config, key, value)
        app = create_app(config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app


CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


class Browser:
    """The test client as a person uses it: forms carry the CSRF token the page gave them."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.token = None
        self.signed_in = False

    def get(self, url, **kw):
        # Each request in an app context of its own, as in production: the test's
        # context (and its ``g``, where Flask-Login keeps the user) is not shared.
        with self.app.app_context():
            response = self.client.get(url, **kw)
            body = response.get_data()  # read whole, as a browser does (a streamed CSV too; a photo, a PDF)
        match = CSRF_INPUT.search(body.decode()) if response.mimetype == "text/html" else None
        if match:
            self.token = match.group(1) or match.group(2)
        return response

    def csrf_token(self):
        if self.token is None:
            # Any page has a token: the sign-in form, or the sign-out form in the header.
            self.get("/plan/" if self.signed_in else "/login")
        return self.token

    def post(self, url, data=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf_token())
        with self.app.app_context():
            return self.client.post(url, data=data, **kw)

    def sign_in(self, email, password=None):
        from seed.loaders import DEMO_PASSWORD

        response = self.post("/login", {"email": email, "password": password or DEMO_PASSWORD})
        assert response.status_code == 302, f"could not sign in as {email}: {response.status_code}"
        self.token, self.signed_in = None, True
        return self


DEMO_EMAILS = {
    "admin": "admin@demo.shropshire-csp.example.org",
    "officer": "officer@demo.shropshire-csp.example.org",
    "partner": "partner@demo.shropshire-csp.example.org",
    "analyst": "analyst@demo.shropshire-csp.example.org",
}


@pytest.fixture
def browser(app):
    return Browser(app)


@pytest.fixture
def as_role(app):
    """as_role("officer") -> a Browser signed in as that seeded demo user."""

    def sign_in(role):
        return Browser(app).sign_in(DEMO_EMAILS[role])

    return sign_in


def text_of(response):
    """The visible text of a page, whitespace collapsed (what a reader sees)."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", html))).strip()


# ---- a real Celery worker against Redis --------------------------------------------------------

@pytest.fixture(scope="session")
def worker_redis_url():
    need(REDIS_URL, "TEST_REDIS_URL")
    return REDIS_URL


@pytest.fixture(scope="session")
def worker_database(databases):
    need(PG_URL, "TEST_DATABASE_URL")
    return databases.postgresql()


def start_worker(database_url, redis_url, queue, log):
    """`celery worker` in a subprocess, configured by environment variables like production; waits for it."""
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url,
               PORTAL_ENV="development", DEMO_ACCOUNTS="0", CELERY_DEFAULT_QUEUE=queue)
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tasks.celery_app", "worker", "--pool=solo",
             "--without-heartbeat", "--without-mingle", "--without-gossip", "-Q", queue, "--loglevel=INFO",
             "-n", f"{queue}@%h"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    celery = create_app(TestConfig(database_url=database_url, redis_url=redis_url)).extensions["celery"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the Celery worker exited: {Path(log).read_text()[-3000:]}")
        if celery.control.ping(timeout=0.5, destination=[f"{queue}@{socket.gethostname()}"]):
            return proc
    proc.kill()
    pytest.fail(f"the Celery worker did not answer: {Path(log).read_text()[-3000:]}")


def stop_worker(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def celery_worker_process(worker_redis_url, worker_database, tmp_path_factory):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    proc = start_worker(worker_database, worker_redis_url, queue, log)
    yield {"process": proc, "queue": queue, "database_url": worker_database, "log": log}
    stop_worker(proc)


@pytest.fixture
def worker_app(celery_worker_process, worker_redis_url):
    """An app talking to the real worker: same database, same Redis, the worker's queue."""
    app = create_app(TestConfig(database_url=celery_worker_process["database_url"], redis_url=worker_redis_url))
    celery = app.extensions["celery"]
    celery.conf.task_default_queue = celery_worker_process["queue"]
    celery.set_current()
    celery.set_default()
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
