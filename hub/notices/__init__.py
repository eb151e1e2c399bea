"""Notices (通知): published to an audience resolved through the tree, read
receipts instead of "收到", coverage for the publisher, no rankings.

See DESIGN.md principles 3–6 and API.md "Notices and the inbox".
"""
from flask import Flask


def register(app: Flask) -> None:
    from hub.notices import api
    app.register_blueprint(api.bp, url_prefix="/api/v1")
