""""Has this made a difference?": residents answer under a published "We did" without an account, once per
browser; officers of the area moderate the comments; a "No" majority brings the concern back to Bronze; the
portal's indicator counts the answers."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.concerns import corrections
from portal.errors import NotAllowed
from portal.extensions import db
from portal.feedback import services
from portal.feedback.browsers import COOKIE
from portal.feedback.models import FeedbackAnswer
from portal.indicators import engine
from portal.places.models import Locality
from portal.tasking.agenda import build_agenda

from ..conftest import Browser, text_of
from ..factories import logged_concern, new_concern, new_meeting, new_task, one, user
from ..public.test_public import MARK, private_data, public_urls  # noqa: F401  (the leak test's fixture)


def answer_url(concern):
    return f"/you-said-we-did/{concern.id}/made-a-difference"


def answer(person, concern, value, comment="", next=None):
    """What a resident does: open the item's page (from a list's button), choose, send."""
    person.get(answer_url(concern) + f"?answer={value}")
    data = {"answer": value, "comment": comment}
    if next:
        data["next"] = next
    return person.post(answer_url(concern), data)


def answers_of(concern):
    db.session.expire_all()
    return db.session.execute(select(FeedbackAnswer).filter_by(concern_id=concern.id)
                              .order_by(FeedbackAnswer.id)).scalars().all()


@pytest.fixture
def we_did(app):
    """A Wem concern (North) answered and published by the North officer ten days after it was raised."""
    return logged_concern(12, answered_after=2, where="wem", said="Speeding on Noble Street")


def say(concern, *values):
    """Answers from that many different browsers, through the service. Commits."""
    for n, value in enumerate(values):
        services.record_answer(concern.id, browser_id=f"{concern.id:08d}{n:024d}", answer=value)
    db.session.commit()


# ---- answering -------------------------------------------------------------------------------------------

def test_a_resident_answers_and_is_returned_to_the_item_with_a_confirmation(app, browser, we_did):
    page = browser.get("/places/wem")
    html = page.get_data(as_text=True)
    assert f'id="concern-{we_did.id}"' in html and "Has this made a difference?" in html
    assert f'action="{answer_url(we_did)}"' in html and 'method="get"' in html  # the shared page holds no token
    response = answer(browser, we_did, "no", "Still speeding every morning", next="/places/wem")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/places/wem#concern-{we_did.id}")
    back = text_of(browser.get("/places/wem"))
    assert "Thank you: your answer was recorded. An officer reads your comment" in back
    assert "Still speeding every morning" not in back  # not approved yet
    [row] = answers_of(we_did)
    assert (row.answer, row.comment, row.comment_status) == ("no", "Still speeding every morning", "pending")
    # The item's page (token, this browser's answer) is never stored; the shared pages stay cacheable.
    assert browser.get(answer_url(we_did)).headers["Cache-Control"] == "private, no-store"
    assert Browser(app).get("/places/wem").headers["Cache-Control"].startswith("public")


def test_one_answer_per_browser_a_second_replaces_the_first(app, browser, we_did):
    answer(browser, we_did, "no", "Nothing changed")
    page = text_of(browser.get(answer_url(we_did)))
    assert "You answered “No”" in page and "replaces that answer" in page
    response = answer(browser, we_did, "yes")
    assert response.status_code == 303
    [row] = answers_of(we_did)
    assert (row.answer, row.comment, row.comment_status) == ("yes", "", "")
    assert "in place of your earlier one" in text_of(browser.get(response.headers["Location"]))
    other = Browser(app)
    answer(other, we_did, "partly")
    assert services.counts([we_did.id])[we_did.id] == {"yes": 1, "partly": 1, "no": 0, "total": 2}


def test_a_forged_browser_cookie_is_a_new_browser_not_someone_elses(app, browser, we_did):
    answer(browser, we_did, "no")
    forged = Browser(app)
    forged.client.set_cookie(COOKIE, "not-signed-by-us", path="/you-said-we-did/")
    answer(forged, we_did, "yes")
    assert sorted(r.answer for r in answers_of(we_did)) == ["no", "yes"]


def test_only_a_published_we_did_takes_answers(app, browser, we_did):
    raised = new_concern()  # not published
    assert browser.get(answer_url(raised)).status_code == 404
    assert browser.get("/you-said-we-did/999999/made-a-difference").status_code == 404
    corrections.withdraw(we_did, by=user("officer"), reason="Wrong street")
    db.session.commit()
    assert browser.get(answer_url(we_did)).status_code == 404
    assert browser.post(answer_url(we_did), {"answer": "no"}).status_code == 404
    assert answers_of(we_did) == []


def test_bad_answers_change_nothing_and_say_which_field(app, browser, we_did):
    browser.get(answer_url(we_did))
    response = browser.post(answer_url(we_did), {"answer": "", "comment": "hello"})
    assert response.status_code == 400
    assert 'href="#answer"' in response.get_data(as_text=True)
    response = browser.post(answer_url(we_did), {"answer": "no", "comment": "x" * 501})
    assert response.status_code == 400 and "500 characters or fewer" in text_of(response)
    assert browser.post(answer_url(we_did), {"answer": "maybe"}).status_code == 400
    assert browser.post(answer_url(we_did), {"answer": "no"}, csrf=False).status_code == 400
    assert answers_of(we_did) == []


def test_the_return_address_stays_on_this_site(app, browser, we_did):
    response = answer(browser, we_did, "yes", next="//evil.example/phish")
    assert response.headers["Location"].endswith(answer_url(we_did))
    refused = browser.post(answer_url(we_did), {"answer": "", "next": "javascript:alert(1)"})
    assert refused.status_code == 400
    assert 'href="/you-said-we-did" class="govuk-back-link"' in refused.get_data(as_text=True)


def test_answers_from_one_address_are_rate_limited(make_app, we_did):
    limited = make_app(RATELIMIT_ENABLED=True, FEEDBACK_RATE_LIMIT="2 per minute")
    with limited.app_context():
        statuses = [answer(Browser(limited), we_did, "no").status_code for _ in range(3)]
        assert statuses == [303, 303, 429]
        assert db.session.execute(select(func.count(FeedbackAnswer.id))).scalar() == 2


# ---- nothing unapproved on any public page ----------------------------------------------------------------

def test_unapproved_and_rejected_comments_reach_no_public_page_or_api(app, browser, as_role, private_data):  # noqa: F811
    answer(Browser(app), private_data, "no", f"Pending {MARK} at number 4")
    answer(Browser(app), private_data, "no", f"Rejected {MARK} rude words")
    rejected = answers_of(private_data)[1]
    services.reject(rejected, by=user("admin"))
    db.session.commit()
    urls = public_urls(app, private_data) + [answer_url(private_data), "/places/ludlow", "/you-said-we-did?q=Ludlow"]
    assert answer_url(private_data) in public_urls(app, private_data)  # the walk covers the new page too
    for url in urls:
        response = browser.get(url)
        assert response.status_code == 200, url
        assert MARK not in response.get_data(as_text=True), f"an unapproved comment leaked into {url}"
    assert MARK in text_of(as_role("admin").get(f"/concerns/{private_data.id}"))  # staff do see them


# ---- moderating -------------------------------------------------------------------------------------------

def test_an_officer_approves_redacts_and_rejects_and_residents_see_only_what_is_approved(app, as_role, we_did):
    resident = Browser(app)
    answer(resident, we_did, "partly", "Better, but call Dave on 07700 900123 <b>now</b>")
    [row] = answers_of(we_did)
    officer = as_role("officer")  # North: Wem is theirs
    concern_page = officer.get(f"/concerns/{we_did.id}")
    assert "1 answer: Yes 0, Partly 1, No 0" in text_of(concern_page)
    assert "Waiting for approval" in text_of(concern_page)
    assert officer.post(f"/feedback/comments/{row.id}/approve",
                        {"next": f"/concerns/{we_did.id}"}).status_code == 302
    public_pages = ("/you-said-we-did", "/places/wem", answer_url(we_did))
    resident = Browser(app)  # another resident reads them (the writer's own page shows them their comment)
    for url in public_pages:
        html = resident.get(url).get_data(as_text=True)
        assert "call Dave on 07700 900123 &lt;b&gt;now&lt;/b&gt;" in html, url  # text, escaped
    officer.get(f"/feedback/comments/{row.id}/redact")
    response = officer.post(f"/feedback/comments/{row.id}/redact", {"text": "Dave on 07700 900123"})
    assert response.status_code == 302
    missing = officer.post(f"/feedback/comments/{row.id}/redact", {"text": "not in it"})
    assert missing.status_code == 400 and "does not appear in the comment" in text_of(missing)
    for url in public_pages:
        page = text_of(resident.get(url))
        assert "Better, but call [removed] <b>now</b>" in page and "07700" not in page, url
    officer.post(f"/feedback/comments/{row.id}/reject", {})
    for url in public_pages:
        assert "Better, but call" not in text_of(resident.get(url)), url
    db.session.refresh(row)
    assert (row.comment_status, row.moderated_by_id, row.redacted) == ("rejected", user("officer").id, True)


def test_another_areas_officer_cannot_moderate_by_typing_an_id(app, as_role, private_data):  # noqa: F811
    answer(Browser(app), private_data, "no", "Ludlow still has dog mess")  # Ludlow is in the South
    [row] = answers_of(private_data)
    officer = as_role("officer")  # North only
    for url, form in ((f"/feedback/comments/{row.id}/approve", {}), (f"/feedback/comments/{row.id}/reject", {}),
                      (f"/feedback/comments/{row.id}/redact", {"text": "dog"})):
        response = officer.post(url, form)
        assert response.status_code == 403 and response.headers.get("X-Access-Refused") == "record", url
    assert officer.get(f"/feedback/comments/{row.id}/redact").status_code == 403
    with pytest.raises(NotAllowed):
        services.approve(row, by=user("officer"))
    db.session.rollback()
    [row] = answers_of(private_data)
    assert (row.comment_status, row.comment) == ("pending", "Ludlow still has dog mess")
    assert as_role("admin").post(f"/feedback/comments/{row.id}/approve", {}).status_code == 302


def test_words_redacted_from_the_concern_leave_residents_comments_too(app, we_did):
    services.record_answer(we_did.id, browser_id="b" * 32, answer="no", comment="Noble Street is still a racetrack")
    corrections.redact(we_did, by=user("officer"), field="you_said", text="Noble Street")
    db.session.commit()
    [row] = answers_of(we_did)
    assert row.comment == "[removed] is still a racetrack" and row.redacted


def test_the_task_page_shows_the_answers_of_its_concerns(app, as_role, we_did):
    task = new_task(we_did)
    say(we_did, "yes", "no", "no")
    page = text_of(as_role("officer").get(f"/tasks/{task.id}"))
    assert "Has this made a difference?" in page and "3 answers: Yes 1, Partly 0, No 2" in page


# ---- back to Bronze ---------------------------------------------------------------------------------------

def not_fixed(area="north", held_on=None):
    return [item for item in build_agenda(one(Locality, key=area), held_on or date.today())
            if item[0] == "residents_not_fixed"]


def test_a_mostly_no_concern_comes_back_on_the_next_agenda_once(app, as_role, we_did):
    say(we_did, "no", "no")
    assert not_fixed() == []  # two answers are too few to say
    say(we_did, "no", "no", "yes", "yes")  # the same browsers again: replaced, 2 of 4 is not more than half
    assert not_fixed() == []
    services.record_answer(we_did.id, browser_id="c" * 32, answer="no")
    db.session.commit()
    [(kind, summary, concern_id, _)] = not_fixed()
    assert concern_id == we_did.id and "Residents say not fixed" in summary and "3 of 5 residents" in summary
    assert not_fixed("south") == []
    meeting = new_meeting(held_on=date.today() - timedelta(days=1))
    assert [i.concern_id for i in meeting.items if i.kind == "residents_not_fixed"] == [we_did.id]
    chair_reads = text_of(as_role("officer").get(f"/tasking/meetings/{meeting.id}"))
    assert "Residents say not fixed" in chair_reads and "3 of 5 residents answered “No”" in chair_reads
    assert not_fixed() == []  # once: the same answers do not bring it back again
    say(we_did, "no", "no", "no")  # answers since it came back
    assert [item[2] for item in not_fixed()] == [we_did.id]


# ---- the portal's indicator -------------------------------------------------------------------------------

@pytest.mark.both_databases
def test_the_share_of_answers_saying_it_made_a_difference_matches_a_hand_count(app, backend, we_did):
    ludlow = logged_concern(12, answered_after=2, where="wem", said="Litter")
    ludlow.locality_id = one(Locality, key="ludlow").id  # moved to the South, published
    db.session.commit()
    say(we_did, "yes", "partly", "no", "no")  # Wem: 2 of 4 made a difference
    say(ludlow, "yes")  # Ludlow: 1 of 1
    engine.rollup(sources=("portal",))
    month = date.today().replace(day=1)

    def value(key):
        from ..indicators.test_indicator_truth import value as stored

        return stored("residents-say-made-a-difference", key, "month", month)

    assert (value("wem").numerator, value("wem").denominator, value("wem").value) == (2, 4, 50.0)
    assert (value("north").numerator, value("north").denominator) == (2, 4)
    assert (value("ludlow").value, value("south").value) == (100.0, 100.0)
    assert (value("shropshire").numerator, value("shropshire").denominator) == (3, 5)
    assert value("shropshire").value == pytest.approx(60.0)
    assert value("oswestry") is None  # no answers: no figure, not 0%


def test_the_pmcg_report_shows_it_beside_ni_21(app, as_role, we_did):
    say(we_did, "yes", "no")
    page = text_of(as_role("analyst").get(f"/indicators/?frequency=monthly&period={date.today():%Y-%m}-01"
                                          "&locality=shropshire"))
    ni21 = page.index("NI 21")
    ours = page.index("Residents' answers saying a 'We did' made a difference")
    assert 0 < ours - ni21 < 1500 and "not a survey" in page
