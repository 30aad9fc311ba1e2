"""Migrations build the schema on this run's database and agree with the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from server import create_app
from server.extensions import db
from tests import databases
from tests.conftest import app_config


def test_empty_database_upgrades_to_head_and_matches_the_models(tmp_path):
    with databases.fresh_database(tmp_path, prefix="gemba_migrate") as url:
        app = create_app(app_config(url, tmp_path))
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                diff = compare_metadata(context, db.metadata)
                tables = set(inspect(conn).get_table_names())
            assert diff == [], f"models and migrations disagree: {diff}"
            assert {"finding", "sync_op", "change", "event", "photo"} <= tables
            downgrade(revision="base")
            with db.engine.connect() as conn:
                assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()
