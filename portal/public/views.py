from flask import Blueprint, render_template

from ..access import PUBLIC, allow

bp = Blueprint("public", __name__)


@bp.route("/")
@allow(PUBLIC)
def home():
    return render_template("public/home.html")


@bp.route("/healthz")
@allow(PUBLIC)
def healthz():
    from sqlalchemy import text

    from ..extensions import db

    db.session.execute(text("select 1"))
    return {"status": "ok"}
