"""Data requests (填报): a shared catalogue of fields, values held once per
(unit, field, period) and reused by every request that asks for them, overlaps
flagged before sending. See DESIGN.md principle 7 ("Collect once"), API.md
"Data requests" and docs/DATA.md.
"""
from flask import Flask


def register(app: Flask) -> None:
    from hub.files.access import FileHolder, linked_by, register_file_holder
    from hub.datarequests import api, burden, queries, views
    from hub.datarequests.hooks import connect_hooks
    from hub.datarequests.models import DataValueHistory
    from hub.notices.burden import register_burden_source
    register_file_holder(FileHolder("data_value", linked_by(DataValueHistory.attachment_id),
                                    queries.values_carrying, queries.may_open_value))
    connect_hooks()                             # held values follow unit merges
    register_burden_source(burden.BURDEN)      # what requesting units ask, in the sender-burden view
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.register_blueprint(views.bp, url_prefix="/data")
