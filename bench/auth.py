"""What checking a session or token on the server costs each request, next to a floor in the same run.

    .venv/bin/python -m bench.auth

For SQLite (a temporary file) and PostgreSQL (a throwaway database on 127.0.0.1:5432),
through the Flask test client (no network), REQUESTS of each:
- floor: `GET /healthz` (one `SELECT 1`, nobody signed in);
- session: `GET /api/me` with a session cookie: the session row is read and checked
  (ended, idle, absolute lifetime) on every request;
- token: `GET /api/me` with a bearer token: the token row is read and checked.
It also counts the UPDATEs of `user_session.last_seen_at` and `api_token.last_used_at`
the requests caused: "last seen" and "last used" are written at most every few minutes
and once a minute, so a run of seconds should write each at most once.
"""

import json
import os
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
from flask_migrate import upgrade
from sqlalchemy import event

from server import create_app
from server.extensions import db
from server.services import tokens
from tests import factories

OUT = Path(__file__).resolve().parent / "out" / "auth.json"
ADMIN_URL = os.environ.get("GEMBA_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUESTS = int(os.environ.get("GEMBA_BENCH_AUTH_REQUESTS", "2000"))


@contextmanager
def database(kind: str):
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{directory}/bench-auth.db"
        return
    name = f"gemba_bench_auth_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_URL.rpartition("/")[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def timed(client, path: str, headers=None) -> list[float]:
    times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(path, headers=headers or {})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)
    return times


def run(kind: str) -> dict:
    with database(kind) as url, tempfile.TemporaryDirectory() as photos:
        app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "GEMBA_PHOTO_DIR": photos})
        with app.app_context():
            upgrade()
            user = factories.user("auditor", email="bench.auditor@example.test")
            secret = tokens.create_token(user, "bench")
            db.session.commit()
            engine = db.engine
        writes = {"user_session": 0, "api_token": 0}

        @event.listens_for(engine, "before_cursor_execute")
        def count(conn, cursor, statement, parameters, context, executemany):
            for table in writes:
                if statement.lstrip().upper().startswith(f"UPDATE {table.upper()}"):
                    writes[table] += 1

        # Each request outside any app context, so each gets its own database session as
        # in production (no identity map carried from one request to the next).
        signed_in = app.test_client()
        login = signed_in.post("/api/auth/login", json={"email": "bench.auditor@example.test", "password": factories.PASSWORD})
        assert login.status_code == 200
        anonymous = app.test_client()
        results = {}
        for label, client, path, headers in [
            ("floor /healthz", anonymous, "/healthz", None),
            ("session GET /api/me", signed_in, "/api/me", None),
            ("token GET /api/me", anonymous, "/api/me", {"Authorization": f"Bearer {secret}"}),
            ("floor /healthz again", anonymous, "/healthz", None),
        ]:
            times = timed(client, path, headers)
            results[label] = {"p50_ms": round(statistics.median(times), 3),
                              "p95_ms": round(statistics.quantiles(times, n=20)[18], 3)}
        results["writes"] = dict(writes)
        event.remove(engine, "before_cursor_execute", count)
        engine.dispose()
        return results


def main() -> dict:
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {REQUESTS} requests each")
    results = {"requests": REQUESTS, "load_average": [round(x, 2) for x in load]}
    for kind in ("sqlite", "postgresql"):
        figures = run(kind)
        results[kind] = figures
        floor = (figures["floor /healthz"]["p50_ms"] + figures["floor /healthz again"]["p50_ms"]) / 2
        for label in ("session GET /api/me", "token GET /api/me"):
            f = figures[label]
            print(f"{kind:<10} {label:<22} p50 {f['p50_ms']:.2f} ms  p95 {f['p95_ms']:.2f} ms  "
                  f"(floor p50 {floor:.2f} ms, +{f['p50_ms'] - floor:.2f} ms)")
        print(f"{kind:<10} writes of last seen / last used over {2 * REQUESTS} requests: "
              f"{figures['writes']['user_session']} / {figures['writes']['api_token']}")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to bench/out/{OUT.name}")
    return results


if __name__ == "__main__":
    main()
