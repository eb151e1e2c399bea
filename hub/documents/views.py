"""Document pages (公文): placeholder until the pages land."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("documents", __name__)
