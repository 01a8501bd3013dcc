"""Reading the delivery plan: the current plan with its themes, actions, partners and indicators, and
the actions a task may serve."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..errors import PortalError
from ..extensions import db
from .models import Action, DeliveryPlan, Theme


def current_plan():
    """The latest delivery plan (by its year) with its themes, actions, their partners and indicators
    loaded, or None before the seed has run."""
    actions = selectinload(DeliveryPlan.themes).selectinload(Theme.actions)
    return db.session.execute(select(DeliveryPlan).order_by(DeliveryPlan.year.desc()).options(
        actions.selectinload(Action.partner_links), actions.selectinload(Action.indicators))
    ).scalars().first()


def action_choices(blank="Choose the action it serves"):
    """Choices for a select of the current plan's actions grouped by theme: {theme: [(id, title)]}
    (WTForms renders each theme as an <optgroup>), the blank choice first and outside any group."""
    rows = db.session.execute(
        select(Theme.name, Action.id, Action.title).join(Action.theme)
        .where(Theme.plan_id == _current_plan_id()).order_by(Theme.position, Action.position)).all()
    choices = {None: [("", blank)]}
    for theme, action_id, title in rows:
        choices.setdefault(theme, []).append((str(action_id), title))
    return choices


def action_of_current_plan(action_id, field="action"):
    """The action with this id, if it is one of the current plan's; otherwise PortalError naming
    ``field`` (an id typed into a request, or one of an older plan, is refused the same way)."""
    action = db.session.get(Action, action_id) if action_id else None
    if action is None or action.theme.plan_id != _current_plan_id():
        raise PortalError("Choose the delivery-plan action the task serves, from the current plan",
                          field=field)
    return action


def _current_plan_id():
    return db.session.execute(select(DeliveryPlan.id).order_by(DeliveryPlan.year.desc()).limit(1)).scalar()
