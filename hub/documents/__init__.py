"""Documents (公文) and their circulation (公文流转): drafted, reviewed, signed
off, numbered and dispatched by the issuing unit; signed for, registered,
instructed, handled or circulated, done and archived at each recipient unit.

See DESIGN.md (Document) and API.md "Documents"; docs/DOCUMENTS.md.
"""
from flask import Flask


def register(app: Flask) -> None:
    from hub.documents import api, queries, views
    from hub.documents.models import DocumentFile
    from hub.files.access import FileHolder, linked_by, register_file_holder
    register_file_holder(FileHolder("document", linked_by(DocumentFile.attachment_id),
                                    queries.documents_carrying, queries.may_open_document))
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.register_blueprint(views.bp, url_prefix="/documents")
