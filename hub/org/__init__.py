"""The org tree: units (单位) with their subtree, people (人员), memberships and roles.

See DESIGN.md "Domain". Subtree and ancestor reads go through the materialized
path in `units.path`, never a walk of the tree in Python.
"""
from flask import Flask


def register(app: Flask) -> None:
    from hub.org import api, imports_api, schedule_api, views
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.register_blueprint(imports_api.bp, url_prefix="/api/v1")
    app.register_blueprint(schedule_api.bp, url_prefix="/api/v1")
