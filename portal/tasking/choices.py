"""The choices of the task forms' people and organisation lists, for the task pages and the agenda."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..partners.services import all_organisations
from ..people.models import User


def owner_choices():
    users = db.session.execute(select(User).where(User.active, User.organisation_id.is_not(None))
                               .options(selectinload(User.organisation)).order_by(User.display_name)).scalars()
    return [("", "Choose the owner")] + [(str(u.id), f"{u.display_name} ({u.organisation.name})") for u in users]


def organisation_choices(blank):
    return [("", blank)] + [(str(o.id), o.name) for o in all_organisations(active_only=True)]
