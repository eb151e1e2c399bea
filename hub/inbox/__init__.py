"""One inbox: notices, documents (公文) to handle, mentions and direct messages, newest first.

See DESIGN.md principle 1 and API.md "Notices and the inbox".
"""
from flask import Flask


def register(app: Flask) -> None:
    from hub.inbox import api, views
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.register_blueprint(views.bp, url_prefix="/inbox")
    app.add_url_rule("/", endpoint="home", view_func=views.home)
