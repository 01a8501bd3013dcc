"""Every list, report and public page sends the same number of SQL statements whatever the size of the data:
the page with 5 concerns, tasks and months of crime sends exactly as many as with 50 (spread over as many
localities, organisations and months), so a query per row (an N+1) cannot creep back. Public pages are
counted with their shared cache emptied (the cost of building them). bench/bench_scale.py measures the
same pages at 100,000 concerns and 5 million crime rows."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from portal.concerns.models import Concern, ConcernCategory
from portal.crime.models import CrimeImport, CrimeMonthlyCount, CrimeRecord
from portal.crime.stats import add_months
from portal.extensions import cache, db
from portal.partners.models import Organisation
from portal.people.models import User
from portal.places.models import Locality
from portal.tasking.models import Task, task_concerns

from ..factories import new_meeting, user

pytestmark = pytest.mark.both_databases


class Statements:
    def __init__(self):
        self.count = 0

    def __call__(self, *args):
        self.count += 1


@pytest.fixture
def statements(app):
    counter = Statements()
    sa.event.listen(db.engine, "before_cursor_execute", counter)
    yield counter
    sa.event.remove(db.engine, "before_cursor_execute", counter)


def places():
    """Wards and neighbourhoods taken in turn, so 5 rows already hold both depths of the tree."""
    def of(level):
        return db.session.execute(select(Locality).where(Locality.level == level).order_by(Locality.id)).scalars()

    wards, neighbourhoods = list(of("ward")), list(of("neighbourhood"))
    return [place for pair in zip(wards, neighbourhoods, strict=False) for place in pair]


def add_data(n, start):
    """``n`` more concerns (each in another locality, every other one published), as many tasks (each for
    another organisation) and ``n`` more months of crime counts and rows, before the seed's months."""
    localities, categories = places(), db.session.execute(select(ConcernCategory.id)).scalars().all()
    organisations = db.session.execute(select(Organisation).order_by(Organisation.id)).scalars().all()
    owners = {}
    for org in organisations:
        owners[org.id] = db.session.execute(select(User).where(User.email == f"owner-{org.id}@example.org")
                                            ).scalar_one_or_none()
        if owners[org.id] is None:
            owners[org.id] = User(email=f"owner-{org.id}@example.org", display_name="Owner", role="partner",
                                  organisation=org)
            db.session.add(owners[org.id])
    partner = user("partner")
    for i in range(start, start + n):
        place = localities[i % len(localities)]
        published = i % 2 == 0
        concern = Concern(locality=place, category_id=categories[i % len(categories)], source="pact",
                          raised_on=date.today() - timedelta(days=i), you_said=f"Concern {i}",
                          status="responded" if published else "new", we_did="Patrols" if published else "",
                          responded_on=date.today() if published else None, published=published,
                          is_priority=i % 3 == 0)
        db.session.add(concern)
        org = partner.organisation if i % 2 else organisations[i % len(organisations)]
        task = Task(area=place.area, locality=place, title=f"Task {i}", problem="Problem",
                    lead_organisation=org, owner=partner if org is partner.organisation else owners[org.id],
                    due_on=date.today() + timedelta(days=i % 20 - 10),
                    status=("open", "in_progress", "completed")[i % 3])
        db.session.add(task)
        db.session.flush()
        db.session.execute(task_concerns.insert().values(task_id=task.id, concern_id=concern.id))
        month = add_months(date(2018, 9, 1), -i)
        wards = [p for p in localities if p.level == "ward"]
        for ward in wards[i % len(wards):i % len(wards) + 3]:
            db.session.add(CrimeRecord(month=month, force="West Mercia Police", crime_type="Burglary",
                                       crime_id=f"bench{i}", locality_id=ward.id))
            db.session.merge(CrimeMonthlyCount(month=month, locality_id=ward.id, crime_type="Burglary",
                                               force="West Mercia Police", n=1))
        db.session.add(CrimeImport(file_name=f"{month:%Y-%m}.csv", force="West Mercia Police", month=month,
                                   status="done", rows=3))
    db.session.commit()


PUBLIC_PAGES = ["/", "/you-said-we-did", "/you-said-we-did?page=2", "/map", "/api/map-points.json",
                "/places/north", "/places/wem", "/open311/v2/requests.json", "/api/concerns.geojson",
                "/api/concerns.csv", "/api/neighbourhoods/wem/priorities.json"]
STAFF_PAGES = [("admin", "/concerns/"), ("admin", "/concerns/?page=2"), ("admin", "/concerns/export.csv"),
               ("officer", "/concerns/?mine=1"), ("partner", "/tasks/"), ("officer", "/tasks/"),
               ("analyst", "/crime/assessment"), ("analyst", "/indicators/"), ("analyst", "/crime/imports"),
               ("officer", "/tasking/meetings/{meeting}"), ("admin", "/concerns/{concern}"),
               ("admin", "/tasks/{task}"), ("officer", "/tasking/coverage/north"),
               ("analyst", "/tasking/coverage/north?place=wem")]


def count(app, client, url, statements):
    with app.app_context():
        cache.clear()
    statements.count = 0
    response = client.get(url)  # a Browser: each request in an app context of its own
    assert response.status_code == 200, url
    return statements.count


def counts_at(app, browsers, statements):
    meeting = new_meeting()
    # The newest concern and task in a ward: one record's page costs the same whatever else is stored.
    in_ward = select(Locality.id).where(Locality.level == "ward")
    concern = db.session.execute(select(Concern).where(Concern.locality_id.in_(in_ward))
                                 .order_by(Concern.id.desc())).scalars().first()
    task = db.session.execute(select(Task).where(Task.locality_id.in_(in_ward))
                              .order_by(Task.id.desc())).scalars().first()
    ids = {"meeting": meeting.id, "concern": concern.id, "task": task.id}
    pages = [("public", url) for url in PUBLIC_PAGES] + STAFF_PAGES
    # Warmed first: what a process builds once (the ward outlines) and the report's recomputation of the
    # portal's own measures after the data changed are not what a page costs on every request.
    for role, url in pages:
        count(app, browsers[role], url.format(**ids), statements)
    return {f"{role} {url}": count(app, browsers[role], url.format(**ids), statements)
            for role, url in pages}


def test_every_page_sends_as_many_statements_for_50_rows_as_for_5(app, backend, as_role, browser, statements):
    browsers = {"public": browser, **{role: as_role(role) for role in ("admin", "officer", "partner", "analyst")}}
    add_data(5, 0)
    small = counts_at(app, browsers, statements)
    add_data(45, 5)
    large = counts_at(app, browsers, statements)
    assert {url: (small[url], n) for url, n in large.items() if n != small[url]} == {}


def test_a_signed_in_request_for_a_static_file_does_not_load_the_user(app, backend, as_role, statements):
    officer = as_role("officer")
    statements.count = 0
    response = officer.get("/static/css/portal.css")
    assert response.status_code == 200
    assert statements.count == 0
    assert officer.get("/plan/").status_code == 200  # still signed in: the page knows who it is
    assert statements.count > 0


def test_the_assessment_reads_every_ward_boundary_in_one_query(app, backend, as_role, statements):
    analyst = as_role("analyst")
    wards = db.session.execute(select(sa.func.count()).select_from(Locality).where(Locality.level == "ward")).scalar()
    statements.count = 0
    assert analyst.get("/crime/assessment").status_code == 200
    assert statements.count < wards / 2  # not one query per ward's outline
