"""Where the residents' features meet the rules on personal data: words an officer redacts leave the
messages queued for residents and the comments under a sibling concern's "We did", and a resident's
address leaves the outbox's record once the message is sent. Paging positions share one cache entry."""
import pytest
from sqlalchemy import select

from portal.concerns import corrections
from portal.concerns import services as concerns
from portal.concerns.models import ConcernCategory
from portal.extensions import cache, db
from portal.feedback import services as feedback
from portal.following import digest
from portal.models import utcnow
from portal.notifications import services as notifications
from portal.notifications.models import OutboxMessage
from portal.reporting import services as reporting

from ..conftest import text_of
from ..factories import logged_concern, new_task, user
from ..following.test_following import confirmed_follower, published_in
from ..tasking.test_review_loop import mail_sink  # noqa: F401  (a fixture)

pytestmark = pytest.mark.both_databases


def outbox(kind):
    db.session.expire_all()
    return db.session.execute(select(OutboxMessage).filter_by(kind=kind)).scalars().all()


def raised_online(said="Bikes on the path", email="reporter@example.org"):
    category = db.session.execute(select(ConcernCategory).where(ConcernCategory.retired.is_(False))).scalars().first()
    concern = reporting.raise_concern(reporting.ResidentReport(category_id=category.id, you_said=said,
                                                               place="Wem", email=email))
    db.session.commit()
    return concern


def test_redacted_words_leave_a_queued_digest_and_a_queued_outcome_email(app):
    confirmed_follower("follower@example.org", "wem", days_ago=1)
    followed = published_in("wem", "Noise from the flats", "Spoke to John Smith at 12 Acacia Avenue")
    assert digest.send_digests(utcnow()) == 1
    online = raised_online()
    admin = user("admin")
    concerns.change_status(online, "accepted", by=admin)
    concerns.change_status(online, "responded", by=admin, we_did="Warned John Smith of Mill Lane")
    db.session.commit()
    assert any("John Smith" in m.body for m in outbox("follow-digest") + outbox("concern_outcome"))
    corrections.redact(followed, by=admin, field="we_did", text="John Smith")
    db.session.commit()
    [queued_digest] = outbox("follow-digest")
    assert "John Smith" not in queued_digest.body and "[removed] at 12 Acacia Avenue" in queued_digest.body
    # A message to a resident that quotes the words about another concern loses them too: the words an
    # officer redacts are a name or an address, which no resident's message should carry.
    assert not [m for m in outbox("concern_outcome") if "John Smith" in m.body]
    assert any("[removed] of Mill Lane" in m.body for m in outbox("concern_outcome"))


def test_redacting_a_concern_reaches_the_comments_under_a_sibling_concern(app, browser):
    first = logged_concern(12, answered_after=2, where="wem", said="Speeding near Joe Bloggs's farm")
    sibling = logged_concern(11, answered_after=2, where="wem", said="Speeding again near Joe Bloggs's farm")
    task = new_task(first)
    task.concerns.append(sibling)
    db.session.commit()
    answer, _ = feedback.record_answer(sibling.id, browser_id="b" * 32, answer="no",
                                       comment="Joe Bloggs's farm is still a racetrack")
    feedback.approve(answer, by=user("officer"))
    db.session.commit()
    assert "Joe Bloggs's farm is still a racetrack" in text_of(browser.get("/places/wem"))
    corrections.redact(first, by=user("officer"), field="you_said", text="Joe Bloggs")
    db.session.commit()
    assert "Joe Bloggs" not in text_of(browser.get("/places/wem"))


def test_a_residents_address_leaves_the_outbox_once_the_message_is_sent(app, as_role, mail_sink):  # noqa: F811
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=mail_sink.server_address[1], MAIL_USE_TLS=False,
                      MAIL_USERNAME="")
    online = raised_online(email="reporter.private@example.org")
    concerns.change_status(online, "no_further_action", by=user("admin"), reason="Not for us",
                           public_reason="Not a police matter")
    db.session.commit()
    assert "reporter.private@example.org" in text_of(as_role("admin").get("/admin/outbox"))  # waiting to go
    assert notifications.deliver_pending() >= 1
    db.session.commit()
    assert [m["to"] for m in mail_sink.received] == [["reporter.private@example.org"]]
    page = text_of(as_role("admin").get("/admin/outbox"))
    assert "reporter.private@example.org" not in page and "A resident (the address is deleted once sent)" in page
    assert not db.session.execute(select(OutboxMessage).filter_by(to_email="reporter.private@example.org")).first()


def test_spellings_of_one_position_and_positions_on_page_one_share_a_cache_entry(app, browser):
    published_in("wem", "Noise from the flats", "Patrols at night")
    entries = len(cache.cache._cache)
    for spelling in ("2001-01-01.7", "2001-01-01.07", "2001-01-01.007"):
        assert browser.get(f"/you-said-we-did?page=2&after={spelling}").status_code == 200
    for made_up in range(1, 20):
        assert browser.get(f"/you-said-we-did?page=1&after=2001-01-01.{made_up}").status_code == 200
    assert len(cache.cache._cache) - entries <= 2  # page 2 at that position, and page 1
