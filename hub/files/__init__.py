"""Files (附件): uploaded first, checked from their content, kept outside the
web root under random names, and served only after the reader's access is
checked again — through the domain that carries the file (a message, a notice,
a document), each registered as a file holder (hub/files/access.py).

This domain imports none of those that use it. See docs/CHANNELS.md
("Attachments": upload first, then name the ids) and docs/SECURITY.md ("Uploads").
"""
from flask import Flask


def register(app: Flask) -> None:
    from hub.files import api
    app.register_blueprint(api.bp, url_prefix="/api/v1")
