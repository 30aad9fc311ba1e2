"""Migrations build the schema on this run's database and agree with the models."""

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from server import create_app
from server.extensions import db
from tests import databases
from tests.conftest import app_config


EXPRESSION_INDEXES = {"ix_finding_area_lower_clause_received"}


def test_empty_database_upgrades_to_head_and_matches_the_models(tmp_path):
    with databases.fresh_database(tmp_path, prefix="gemba_migrate") as url:
        app = create_app(app_config(url, tmp_path))
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn, warnings.catch_warnings():
                # Expression indexes are written as SQL (migrations/env.py EXPRESSION_INDEXES).
                warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
                context = MigrationContext.configure(conn, opts={
                    "compare_type": True,
                    "include_name": lambda name, kind, parent: not (kind == "index" and name in EXPRESSION_INDEXES)})
                diff = compare_metadata(context, db.metadata)
                tables = set(inspect(conn).get_table_names())
            assert diff == [], f"models and migrations disagree: {diff}"
            assert {"finding", "sync_op", "change", "event", "photo"} <= tables
            downgrade(revision="base")
            with db.engine.connect() as conn:
                assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()
