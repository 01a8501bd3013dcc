"""A hand-countable partnership: two new lead partners with tasks in every state, and concerns answered
after a known number of days, in the last 90 days (the seed's demo concerns are from 2008-09)."""
from datetime import date, datetime, time, timedelta

import pytest

from portal.concerns.models import Concern, ConcernCategory, ConcernEvent
from portal.extensions import db
from portal.partners.models import Organisation
from portal.people.models import User
from portal.places.models import Locality
from portal.tasking.models import Task, TaskUpdate

from ..factories import logged_concern, one

TODAY = date.today()
PERIOD = {"date_from": (TODAY - timedelta(days=90)).isoformat(), "date_to": TODAY.isoformat()}


def ago(days):
    return TODAY - timedelta(days=days)


def add_task(org, owner, status, *, where="wem", due, raised, completed=None, title=None):
    """A task as it stands after its life so far (its dates set, not lived through)."""
    place = one(Locality, key=where)
    task = Task(area=place.area, locality=place, title=title or f"{org.short_name} {status} {due}",
                problem="Problem", lead_organisation=org, owner=owner, due_on=ago(due), status=status,
                completed_on=ago(completed) if completed is not None else None,
                created_at=datetime.combine(ago(raised), time(9, 30)))
    db.session.add(task)
    db.session.flush()
    db.session.add(TaskUpdate(task=task, by_id=owner.id, organisation_id=org.id, text="Task raised",
                              at=task.created_at, to_status="open"))
    return task


@pytest.fixture
def partnership(app):
    """Alpha leads 3 open (2 overdue), 2 completed on time in 14 and 28 days, 1 late in 7, one completed
    before the period, one closed, and one open task in the South; Beta leads 1 late task, done in 3 days."""
    alpha = Organisation(name="Alpha Housing Trust", short_name="Alpha", kind="housing")
    beta = Organisation(name="Beta Youth Service", short_name="Beta", kind="other")
    db.session.add_all([alpha, beta])
    owners = {}
    for org in (alpha, beta):
        owners[org] = User(email=f"lead@{org.short_name.lower()}.example.org", display_name=f"{org.short_name} lead",
                           role="partner", organisation=org)
    db.session.add_all(owners.values())
    db.session.flush()
    tasks = {
        "alpha_open": add_task(alpha, owners[alpha], "open", due=-10, raised=5),
        "alpha_overdue_1": add_task(alpha, owners[alpha], "in_progress", due=3, raised=30),
        "alpha_overdue_2": add_task(alpha, owners[alpha], "blocked", due=1, raised=30),
        "alpha_late": add_task(alpha, owners[alpha], "completed", due=5, raised=10, completed=3),
        "alpha_on_time_1": add_task(alpha, owners[alpha], "completed", due=2, raised=20, completed=6),
        "alpha_on_time_2": add_task(alpha, owners[alpha], "completed", due=0, raised=30, completed=2),
        "alpha_before_period": add_task(alpha, owners[alpha], "completed", due=190, raised=400, completed=200),
        "alpha_closed": add_task(alpha, owners[alpha], "closed", due=1, raised=40),
        "alpha_south": add_task(alpha, owners[alpha], "open", where="ludlow", due=-20, raised=2),
        "beta_late": add_task(beta, owners[beta], "completed", due=3, raised=4, completed=1),
    }
    db.session.commit()
    return {"alpha": alpha, "beta": beta, "owners": owners, "tasks": tasks}


@pytest.fixture
def answered(app):
    """North concerns answered 10, 20 and 40 days after being raised (published today), one first published
    5 days after being raised (and again today), one still new, one answered before the period; a South
    concern accepted for tasking."""
    concerns = {f"answered_{d}": logged_concern(d, answered_after=1) for d in (10, 20, 40)}
    concerns["new"] = logged_concern(5)
    concerns["before_period"] = logged_concern(200, answered_after=1)
    early = Concern(locality=one(Locality, key="wem"), category=db.session.query(ConcernCategory).first(),
                    source="pact", raised_on=ago(30), you_said="Litter by the shops", status="responded",
                    we_did="Weekly litter picks", responded_on=ago(25), published=True,
                    published_at=datetime.combine(TODAY, time(8)))
    db.session.add(early)
    db.session.flush()
    db.session.add_all([ConcernEvent(concern=early, kind="published", at=datetime.combine(ago(25), time(12))),
                        ConcernEvent(concern=early, kind="published", at=datetime.combine(TODAY, time(8)))])
    south = Concern(locality=one(Locality, key="ludlow"), category=early.category, source="pact",
                    raised_on=ago(3), you_said="Graffiti on the market hall", status="accepted")
    db.session.add(south)
    db.session.commit()
    concerns.update(early=early, south=south)
    return concerns
