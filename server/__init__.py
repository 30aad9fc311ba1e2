"""Gemba: the register server. `create_app` wires things up and does nothing else."""

import os
from pathlib import Path

from flask import Flask

from . import api, cli, compression, db_setup, errors, health, pages, proxies, pwa, security, storage, textin
from . import config as settings
from .extensions import db, migrate

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: dict | None = None) -> Flask:
    """Build a Gemba app from the environment, with `config` overriding it (tests)."""
    # GEMBA_INSTANCE_DIR: this process's own folder (secret key file, SQLite, local files);
    # several hosts sharing PostgreSQL and an object store each have their own.
    app = Flask(__name__, instance_relative_config=True, instance_path=os.environ.get("GEMBA_INSTANCE_DIR") or None)
    app.config.update(settings.DEFAULTS)
    app.config.update(settings.from_environment(app.instance_path, config or {}))
    app.config.update(config or {})

    compression.init_app(app)  # first: after_request hooks run last-registered first, so it runs last
    db_setup.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)
    storage.init_app(app)
    proxies.init_app(app)
    security.init_app(app)
    textin.init_app(app)
    errors.init_app(app)
    api.init_app(app)
    pages.init_app(app)
    pwa.init_app(app)
    health.init_app(app)
    cli.init_app(app)
    return app
