"""Small factories for test data: seeded rows looked up by their natural keys, and concerns, tasks and
tasking meetings made through the portal's own services (so they pass the same checks as a user's)."""
from datetime import date, timedelta

from sqlalchemy import select

from portal.concerns import services as concerns
from portal.concerns.models import Concern, ConcernCategory
from portal.extensions import db
from portal.people.models import User
from portal.places.models import Locality

from .conftest import DEMO_EMAILS

YOUTHS = "YOUTH RELATED - YOUTHS INAPPROPRIATE GATHERING"
ASB_ACTION = "To tackle anti social behaviour"


def one(model, **by):
    """The one row with these values (e.g. ``one(Locality, key="wem")``)."""
    return db.session.execute(select(model).filter_by(**by)).scalar_one()


def user(role):
    """The seeded demo user of a role: admin, officer (North), partner, analyst."""
    return one(User, email=DEMO_EMAILS[role])


def new_concern(where="wem", said="Youths gathering at the recreation ground every night", name=YOUTHS,
                **extra):
    """A PACT concern raised three days ago, with a private note a resident must never see. Commits."""
    concern = Concern(locality=one(Locality, key=where), category=one(ConcernCategory, name=name), source="pact",
                      raised_on=date.today() - timedelta(days=3), you_said=said, status="new",
                      internal_notes="Caller lives at 4 Mill Lane", **extra)
    db.session.add(concern)
    db.session.commit()
    return concern


def logged_concern(days_ago, *, answered_after=None, where="wem", said="Speeding on the A49"):
    """A resident's concern logged by the North officer ``days_ago``, answered and published
    ``answered_after`` days later if given. Through the services; commits."""
    officer = user("officer")
    category = db.session.execute(select(ConcernCategory).limit(1)).scalar_one()
    raised = date.today() - timedelta(days=days_ago)
    concern = concerns.log_concern(concerns.ConcernInput(category_id=category.id, you_said=said,
                                                         locality_id=one(Locality, key=where).id),
                                   by=officer, source="resident_contact", raised_on=raised)
    if answered_after is not None:
        concerns.change_status(concern, "responded", by=officer, we_did="Speed checks every week",
                               responded_on=raised + timedelta(days=answered_after))
        concerns.publish(concern, by=officer)
    db.session.commit()
    return concern


def new_task(concern=None, owner_role="partner", due=None, where="wem", action=None):
    """A task raised by the North officer for the partner's organisation, due in two weeks (or ``due``,
    raised as if 60 days ago so a past date is allowed), serving ``action`` if given. Commits."""
    from portal.tasking import tasks

    task = tasks.create_task(
        by=user("officer"), title="Youths at the recreation ground", problem="Gatherings most nights",
        locality_id=one(Locality, key=where).id, lead_organisation_id=user(owner_role).organisation_id,
        owner_id=user(owner_role).id, due_on=due or date.today() + timedelta(days=14),
        concern_ids=[concern.id] if concern else [], today=date.today() - timedelta(days=60) if due else None,
        action_id=action.id if action else None)
    db.session.commit()
    return task


def completed(task, we_did, assessment="Calls about the park fell from 12 to 2 a month"):
    """The task completed by the partner with this "We did" (awaiting an officer's review). Commits."""
    from portal.tasking import tasks

    tasks.update_task(task, by=user("partner"), version=task.version_id, status="completed",
                      assessment=assessment, we_did=we_did)
    db.session.commit()
    db.session.refresh(task)
    return task


def new_meeting(area="north", held_on=None, chair="officer"):
    """A Bronze tasking meeting of an area, its agenda built from the data. Commits."""
    from portal.tasking import meetings

    meeting = meetings.open_meeting(by=user(chair), area_id=one(Locality, key=area).id,
                                    held_on=held_on or date.today())
    db.session.commit()
    return meeting


def plan_action(title=ASB_ACTION):
    """An action of the seeded 2010-11 delivery plan, by its title."""
    from portal.plan.models import Action

    return one(Action, title=title)
