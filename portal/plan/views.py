from flask import Blueprint, render_template

from ..access import SIGNED_IN, allow
from . import services

bp = Blueprint("plan", __name__, url_prefix="/plan")


@bp.route("/")
@allow(SIGNED_IN)
def index():
    return render_template("plan/index.html", plan=services.current_plan())
