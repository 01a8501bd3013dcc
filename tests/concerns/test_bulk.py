"""Bulk actions on concerns: a PACT meeting's reviewed concerns published at once, and a selection from the
register accepted for tasking or closed as no further action. Each is all or nothing, each concern is
checked as it would be on its own page, and each gets its own history entries."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.concerns import bulk
from portal.concerns import services as concerns
from portal.concerns.models import ConcernCategory, ConcernEvent
from portal.errors import NotAllowed, PortalError
from portal.extensions import db
from portal.places.models import Locality

from ..conftest import Browser, text_of
from ..factories import new_concern, one, user

GRAFFITI = "ENVIRONMENTAL - GRAFFITI"


def pact_meeting(where="wem", by="officer", answers=("Cleansing team removed it", "Patrols on Fridays", "")):
    """A PACT meeting with one concern per answer: a non-empty answer is recorded as a "We did"
    (responded, not published). Commits."""
    items = [concerns.ConcernInput(category_id=one(ConcernCategory, name=GRAFFITI).id, you_said=f"Concern {n}",
                                   locality_id=one(Locality, key=where).id, row=n) for n in range(len(answers))]
    meeting = concerns.record_pact_meeting(by=user(by), locality_id=one(Locality, key=where).id,
                                           held_on=date.today() - timedelta(days=7), venue="Town hall",
                                           attendance=12, partner_ids=[], notes="", items=items)
    for concern, answer in zip(meeting.concerns, answers, strict=True):
        if answer:
            concerns.change_status(concern, "responded", by=user(by), we_did=answer)
    db.session.commit()
    return meeting


def events(concern, kind=None):
    query = select(ConcernEvent).filter_by(concern_id=concern.id)
    if kind:
        query = query.filter_by(kind=kind)
    return db.session.execute(query.order_by(ConcernEvent.id)).scalars().all()


def publish_form(meeting, ids=None):
    ids = [c.id for c in bulk.reviewed_of_meeting(meeting)] if ids is None else ids
    return {"concerns": [str(i) for i in ids]}


def test_an_officer_publishes_all_reviewed_concerns_of_a_meeting_at_once(app, as_role):
    meeting = pact_meeting()
    answered, patrols, unanswered = meeting.concerns
    officer = as_role("officer")
    page = text_of(officer.get(f"/concerns/meetings/{meeting.id}"))
    assert "Reviewed, not yet published (2)" in page and "Publish all 2 reviewed concerns of this meeting" in page
    response = officer.post(f"/concerns/meetings/{meeting.id}/publish-reviewed", publish_form(meeting))
    assert response.status_code == 302
    assert "Published 2 concerns" in text_of(officer.get(response.headers["Location"]))
    db.session.expire_all()
    assert answered.published and patrols.published and not unanswered.published
    # each concern's history holds the same entry a single "Publish" writes
    for concern in (answered, patrols):
        entry = events(concern, "published")
        assert len(entry) == 1 and entry[0].by_id == user("officer").id and entry[0].detail == "Published to residents"
    public = Browser(app).get(f"/api/concerns/{answered.id}.json").get_json()
    assert public["we_did"] == "Cleansing team removed it"
    assert "Reviewed, not yet published" not in text_of(officer.get(f"/concerns/meetings/{meeting.id}"))


def test_publishing_a_meeting_is_all_or_nothing(app, as_role):
    meeting = pact_meeting()
    answered, patrols, unanswered = meeting.concerns
    other = pact_meeting(answers=("Bins emptied",))
    officer = as_role("officer")
    cases = {
        "one not reviewed": ([answered.id, unanswered.id], f"Concern {unanswered.id} (Environmental - graffiti, Wem): "
                                                           "it is 'New', not responded with a 'We did'."),
        "another meeting's": ([answered.id, other.concerns[0].id], f"Concern {other.concerns[0].id} "
                                                                   "(Environmental - graffiti, Wem): it is not one of "
                                                                   "this meeting's concerns."),
        "no such concern": ([answered.id, 2_000_000], "Concern 2000000 does not exist."),
        "nothing listed": ([], "None of this meeting's concerns waits to be published"),
    }
    for case, (ids, message) in cases.items():
        response = officer.post(f"/concerns/meetings/{meeting.id}/publish-reviewed", publish_form(meeting, ids))
        assert response.status_code == 400, case
        assert message in text_of(response), case
        db.session.expire_all()
        assert not answered.published and not patrols.published, case
        assert events(answered, "published") == [], case
    damaged = officer.post(f"/concerns/meetings/{meeting.id}/publish-reviewed", {"concerns": ["12x"]})
    assert damaged.status_code == 400 and "out of date or damaged" in text_of(damaged)
    # published meanwhile by someone else: the batch the page listed is refused, naming it
    concerns.publish(patrols, by=user("officer"))
    db.session.commit()
    response = officer.post(f"/concerns/meetings/{meeting.id}/publish-reviewed",
                            publish_form(meeting, [answered.id, patrols.id]))
    assert response.status_code == 400 and f"Concern {patrols.id}" in text_of(response)
    assert "it is already published" in text_of(response)
    db.session.expire_all()
    assert not answered.published


def test_another_areas_officer_cannot_publish_a_meeting_and_sees_no_button(app, as_role):
    meeting = pact_meeting(where="ludlow", by="admin")
    officer = as_role("officer")  # North
    page = text_of(officer.get(f"/concerns/meetings/{meeting.id}"))
    assert "Reviewed, not yet published (2)" in page and "Publish all" not in page
    response = officer.post(f"/concerns/meetings/{meeting.id}/publish-reviewed", publish_form(meeting))
    assert response.status_code == 403
    db.session.expire_all()
    assert not any(c.published for c in meeting.concerns)
    assert as_role("analyst").post(f"/concerns/meetings/{meeting.id}/publish-reviewed",
                                   publish_form(meeting)).status_code == 403
    assert as_role("admin").post(f"/concerns/meetings/{meeting.id}/publish-reviewed",
                                 publish_form(meeting)).status_code == 302


def test_the_service_checks_each_concern_whoever_calls_it(app):
    """The same check without any page: a North officer's batch naming a South meeting's concern."""
    south = pact_meeting(where="ludlow", by="admin")
    with pytest.raises(NotAllowed, match=f"Concern {south.concerns[0].id} .*Only an officer of this concern's area"):
        bulk.publish_reviewed(south, by=user("officer"), concern_ids=[c.id for c in bulk.reviewed_of_meeting(south)])
    db.session.rollback()
    with pytest.raises(PortalError, match="Choose to accept"):
        bulk.change_statuses([south.concerns[0].id], "responded", by=user("admin"))


# ---- select-and-act on the register ------------------------------------------------------------

def register_concerns(count=3, where="wem"):
    return [new_concern(where=where, said=f"Register concern {n}") for n in range(count)]


def act(browser, ids, action, reason="", query="?mine=1"):
    return browser.post(f"/concerns/bulk{query}", {"concerns": [str(i) for i in ids], "action": action,
                                                   "reason": reason})


def test_an_officer_accepts_a_selection_for_tasking_each_with_its_own_history(app, as_role):
    chosen = register_concerns(3)
    left = new_concern(said="Not selected")
    officer = as_role("officer")
    page = officer.get("/concerns/?mine=1").get_data(as_text=True)
    for concern in chosen:
        assert f'name="concerns" type="checkbox" value="{concern.id}"' in page
    response = act(officer, [c.id for c in chosen], "accepted", "For the Bronze meeting")
    assert response.status_code == 302 and response.headers["Location"].endswith("/concerns/?mine=1")
    assert "3 concerns now 'Accepted for tasking'." in text_of(officer.get(response.headers["Location"]))
    db.session.expire_all()
    assert [c.status for c in chosen] == ["accepted"] * 3 and left.status == "new"
    for concern in chosen:
        status = events(concern, "status")
        assert [(e.from_status, e.to_status, e.detail, e.by_id) for e in status] == [
            ("new", "accepted", "For the Bronze meeting", user("officer").id)]


def test_the_bulk_form_returns_to_the_same_filters_and_nowhere_else(app, as_role):
    concern = new_concern()
    officer = as_role("officer")
    html = officer.get("/concerns/?status=new&page=1&_external=1&_scheme=javascript").get_data(as_text=True)
    assert 'action="/concerns/bulk?status=new&amp;page=1"' in html
    response = act(officer, [concern.id], "accepted", query="?status=new&_external=1&_scheme=javascript")
    assert response.status_code == 302 and response.headers["Location"] == "/concerns/?status=new"


def test_closing_a_selection_needs_one_reason_and_records_it_on_each(app, as_role):
    chosen = register_concerns(2)
    officer = as_role("officer")
    response = act(officer, [c.id for c in chosen], "no_further_action")
    assert response.status_code == 400
    assert "Give the reason for no further action: residents will read it" in text_of(response)
    assert 'href="#reason"' in response.get_data(as_text=True)  # the error summary links to the field
    db.session.expire_all()
    assert [c.status for c in chosen] == ["new", "new"]
    assert act(officer, [c.id for c in chosen], "no_further_action", "Raised with the council's highways team"
               ).status_code == 302
    db.session.expire_all()
    assert [c.status for c in chosen] == ["no_further_action"] * 2
    assert all(c.status_reason == "Raised with the council's highways team" for c in chosen)
    assert all(events(c, "status")[-1].detail == "Raised with the council's highways team" for c in chosen)
    # no further action is a public state: residents read the one reason on each concern
    assert all(c.public_reason == "Raised with the council's highways team" for c in chosen)


@pytest.mark.both_databases
def test_a_typed_id_of_another_areas_concern_refuses_the_whole_batch_naming_it(app, backend, as_role):
    mine = register_concerns(2)
    theirs = new_concern(where="ludlow", said="Graffiti on Ludlow market hall")
    officer = as_role("officer")
    # the South concern has no checkbox for a North officer: its id is typed into the request
    page = officer.get("/concerns/").get_data(as_text=True)
    assert f'value="{mine[0].id}"' in page and f'type="checkbox" value="{theirs.id}"' not in page
    events_before = db.session.execute(select(func.count()).select_from(ConcernEvent)).scalar_one()
    response = act(officer, [mine[0].id, theirs.id, mine[1].id], "accepted", query="")
    assert response.status_code == 403
    assert (f"Concern {theirs.id} (Youth related - youths inappropriate gathering, Ludlow): Only an officer of "
            "this concern's area or an administrator can change it. Nothing was changed.") in text_of(response)
    db.session.expire_all()
    assert [c.status for c in (*mine, theirs)] == ["new"] * 3
    assert db.session.execute(select(func.count()).select_from(ConcernEvent)).scalar_one() == events_before
    # the ticked boxes stay ticked on the page shown again
    html = response.get_data(as_text=True)
    assert f'value="{mine[0].id}" checked' in html and f'value="{mine[1].id}" checked' in html


def test_a_batch_with_one_concern_that_cannot_move_changes_none(app, as_role):
    new, responded = register_concerns(2)
    concerns.change_status(responded, "responded", by=user("officer"), we_did="Done")
    db.session.commit()
    officer = as_role("officer")
    response = act(officer, [new.id, responded.id], "accepted")
    assert response.status_code == 400
    page = text_of(response)
    assert f"Concern {responded.id}" in page and "cannot become 'Accepted for tasking'" in page
    db.session.expire_all()
    assert new.status == "new" and events(new) == []
    for data in ({"action": "accepted"}, {"concerns": [str(new.id)]}, {"concerns": [str(new.id)], "action": "closed"},
                 {"concerns": ["1; DROP TABLE concerns"], "action": "accepted"}):
        assert officer.post("/concerns/bulk", data).status_code == 400, data
    db.session.expire_all()
    assert new.status == "new"


def test_only_officers_and_admins_act_on_the_register(app, as_role):
    concern = new_concern()
    analyst = as_role("analyst")
    assert 'name="concerns" type="checkbox"' not in analyst.get("/concerns/").get_data(as_text=True)
    assert act(analyst, [concern.id], "accepted").status_code == 403
    assert act(as_role("partner"), [concern.id], "accepted").status_code == 403
    assert act(as_role("admin"), [concern.id], "accepted").status_code == 302
    db.session.refresh(concern)
    assert concern.status == "accepted"
