"""Throwaway test databases: a SQLite file, or a PostgreSQL database created and dropped per run."""

import os
import uuid
from contextlib import contextmanager

import psycopg

ADMIN_URL = os.environ.get("GEMBA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def backend() -> str:
    name = os.environ.get("GEMBA_TEST_DB", "sqlite")
    if name not in {"sqlite", "postgresql"}:
        raise RuntimeError(f"GEMBA_TEST_DB must be sqlite or postgresql, not {name!r}")
    return name


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@contextmanager
def postgres_database(prefix: str = "gemba_test"):
    """Create an empty PostgreSQL database, yield its SQLAlchemy URL, drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise RuntimeError(
            f"PostgreSQL is required for GEMBA_TEST_DB=postgresql but {ADMIN_URL} did not answer: {exc}"
        ) from exc
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(ADMIN_URL, name).replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def sqlite_database(directory):
    yield f"sqlite:///{directory / 'gemba-test.db'}"


@contextmanager
def fresh_database(directory, prefix: str = "gemba_test"):
    if backend() == "postgresql":
        with postgres_database(prefix) as url:
            yield url
    else:
        with sqlite_database(directory) as url:
            yield url
