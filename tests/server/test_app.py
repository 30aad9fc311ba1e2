"""Configuration, health, security headers, error shapes."""

import pytest

from server import create_app
from server.config import normalise_database_url


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] is True


def test_healthz_503_when_database_is_unreachable(tmp_path):
    app = create_app({
        "SECRET_KEY": "x",
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
        "GEMBA_PHOTO_DIR": str(tmp_path),
    })
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] is False


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("GEMBA_SECRET_KEY", raising=False)
    monkeypatch.setenv("GEMBA_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    from flask import Flask

    first = create_app({"GEMBA_PHOTO_DIR": str(tmp_path)})
    key_file = tmp_path / "instance" / "secret_key"
    assert not key_file.exists()  # the default instance folder is the package's, not tmp
    assert first.config["SECRET_KEY"]
    second = create_app({"GEMBA_PHOTO_DIR": str(tmp_path)})
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert isinstance(first, Flask)


def test_secret_key_from_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("GEMBA_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("GEMBA_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    app = create_app({"GEMBA_PHOTO_DIR": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "from-the-environment"


@pytest.mark.parametrize(("given", "expected"), [
    ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_database_urls_use_psycopg3(given, expected):
    assert normalise_database_url(given) == expected


def test_sqlite_runs_in_wal_with_foreign_keys(app):
    from server.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


@pytest.mark.parametrize("path", ["/healthz", "/login", "/api/me", "/app/", "/no-such-page"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_api_404_is_json_and_page_404_is_html(client):
    api = client.get("/api/nothing-here")
    assert api.status_code == 404
    assert api.json["error"]["code"] == "not_found"
    page = client.get("/nothing-here")
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    assert b"Not found" in page.data


def test_wrong_method_is_405_json(client):
    response = client.delete("/api/me")
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"


def test_openapi_document_lists_the_api(client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/auth/login" in spec["paths"]
    assert "401" in spec["paths"]["/api/auth/login"]["post"]["responses"]
