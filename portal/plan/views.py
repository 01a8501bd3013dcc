from flask import Blueprint, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..access import SIGNED_IN, allow
from ..extensions import db
from .models import Action, DeliveryPlan, Theme

bp = Blueprint("plan", __name__, url_prefix="/plan")


@bp.route("/")
@allow(SIGNED_IN)
def index():
    plan = db.session.execute(
        select(DeliveryPlan).order_by(DeliveryPlan.year.desc()).options(
            selectinload(DeliveryPlan.themes).selectinload(Theme.actions).selectinload(Action.partner_links),
            selectinload(DeliveryPlan.themes).selectinload(Theme.actions).selectinload(Action.indicators))
    ).scalars().first()
    return render_template("plan/index.html", plan=plan)
