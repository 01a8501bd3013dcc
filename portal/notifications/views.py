from flask import Blueprint, render_template

from ..access import ADMIN, allow
from . import services

bp = Blueprint("notifications", __name__)


@bp.route("/admin/outbox")
@allow(ADMIN)
def outbox():
    return render_template("notifications/outbox.html", messages=services.recent())
