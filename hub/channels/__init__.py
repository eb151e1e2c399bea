"""Channels (频道/工作群) that follow the org tree: unit, announcement, task and
direct channels; messages with topics, mentions, acknowledgements; real time.

See DESIGN.md principles 2, 3 and 5, and API.md "Channels and messages".
"""
from flask import Flask


def register(app: Flask) -> None:
    from hub.channels import api, events, views
    from hub.channels.hooks import connect_hooks
    app.register_blueprint(views.bp, url_prefix="/channels")
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    events.register_events()
    connect_hooks()
