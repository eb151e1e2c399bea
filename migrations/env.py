"""Alembic environment: the hub's own engine and metadata, from the Flask app."""
from alembic import context

import hub.models  # noqa: F401  (fills the metadata)
from hub.extensions import db

config = context.config


def run_migrations_online() -> None:
    app = config.attributes.get("flask_app")
    if app is None:
        from hub import create_app
        app = create_app()
    with app.app_context(), db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=db.metadata,
                          render_as_batch=connection.dialect.name == "sqlite",
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
