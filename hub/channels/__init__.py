"""Channels (频道/工作群) that follow the org tree: unit, announcement, task and
direct channels; messages with topics, mentions, acknowledgements; real time.

See DESIGN.md principles 2, 3 and 5, and API.md "Channels and messages".
"""
from flask import Flask


def register(app: Flask) -> None:
    from hub.channels import api, events, views
    from hub.channels.access import may_open_message, messages_carrying
    from hub.channels.hooks import connect_hooks
    from hub.files.access import FileHolder, register_file_holder
    from hub.files.models import Attachment
    register_file_holder(FileHolder("message", Attachment.message_id.is_not(None), messages_carrying,
                                    may_open_message))
    app.register_blueprint(views.bp, url_prefix="/channels")
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    events.register_events()
    connect_hooks()
