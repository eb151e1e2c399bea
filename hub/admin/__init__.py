"""Admin pages: the tree, units and people, roles, imports and the audit log.

Views only; every change goes through the org, people and import actions.
"""
from flask import Flask


def register(app: Flask) -> None:
    from hub.admin import api, views
    app.register_blueprint(views.bp, url_prefix="/admin")
    app.register_blueprint(api.bp, url_prefix="/api/v1")
