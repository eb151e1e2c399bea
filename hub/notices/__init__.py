"""Notices (通知): published to an audience resolved through the tree, read
receipts instead of "收到", coverage for the publisher, no rankings.

See DESIGN.md principles 3–6 and API.md "Notices and the inbox".
"""
from flask import Flask


def register(app: Flask) -> None:
    from hub.files.access import FileHolder, linked_by, register_file_holder
    from hub.notices import api, queries, views
    from hub.notices.models import NoticeAttachment
    register_file_holder(FileHolder("notice", linked_by(NoticeAttachment.attachment_id),
                                    queries.notices_carrying, queries.may_open_notice))
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.register_blueprint(views.bp, url_prefix="/notices")
    # The digest, the sender-burden view and the suggestion box (pages and JSON).
    from hub.notices import reports_api, reports_views
    app.register_blueprint(reports_views.bp, url_prefix="")
    app.register_blueprint(reports_api.bp, url_prefix="/api/v1")
