"""Admin pages: the tree, units and people, roles, imports and the audit log.

Views only; every change goes through the org, people and import actions.
"""
from flask import Flask


def register(app: Flask) -> None:
    # The page modules attach their routes to the one `admin` blueprint on import.
    from hub.admin import (api, views, views_audit, views_imports, views_people,  # noqa: F401
                           views_security, views_units)
    app.register_blueprint(views.bp, url_prefix="/admin")
    app.register_blueprint(api.bp, url_prefix="/api/v1")
