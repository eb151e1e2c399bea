"""Admin pages."""
from flask import Blueprint, render_template
from flask_login import current_user, login_required

from hub.permissions import require_any_admin

bp = Blueprint("admin", __name__)


@bp.get("/")
@login_required
def index():
    require_any_admin(current_user)
    return render_template("admin/index.html")
