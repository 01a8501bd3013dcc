"""The chair of a Bronze tasking meeting decides agenda items on a phone."""

from sqlalchemy import select

from portal.extensions import db

from .conftest import serious_violations, shot, sign_in, with_axe


def test_the_chair_decides_each_agenda_item_in_its_own_form_on_a_phone(app, live_server, page):
    from portal.tasking.models import AgendaItem

    from ..factories import new_concern, new_meeting

    for n in range(6):
        new_concern(said=f"Youths gathering by the shops, report {n}")
    meeting = new_meeting()
    items = db.session.execute(select(AgendaItem).filter_by(meeting_id=meeting.id)
                               .order_by(AgendaItem.position)).scalars().all()
    first, fifth = items[0], items[4]
    page.set_viewport_size({"width": 390, "height": 844})
    with_axe(page)
    sign_in(page, live_server, "officer")
    page.goto(f"{live_server}/tasking/meetings/{meeting.id}")
    assert serious_violations(page) == []
    for item in (first, fifth):
        page.click(f"#item-{item.id} summary")
    page.click(f"label[for=item-{fifth.id}-decision-4]")  # "Noted", on item 5
    assert page.is_checked(f"#item-{fifth.id}-decision-4")
    assert not page.is_checked(f"#item-{first.id}-decision-4")
    page.click(f"label[for=item-{fifth.id}-decision-2]")  # "No further action", with no reason
    page.click(f"#item-{fifth.id} button:has-text('Record decision')")
    link = page.locator(f".govuk-error-summary a[href='#item-{fifth.id}-note']")
    assert link.inner_text() == "Item 5: Give the reason for no further action"
    shot(page, "agenda-item-error-phone")
    link.click()  # the summary's script moves the focus to the field (without it, the link's #fragment)
    assert page.evaluate("() => document.activeElement.id") == f"item-{fifth.id}-note"
    assert page.is_checked(f"#item-{fifth.id}-decision-2") and not page.is_checked(f"#item-{first.id}-decision-2")
    page.fill(f"#item-{fifth.id}-note", "The school is dealing with it")
    page.click(f"#item-{fifth.id} button:has-text('Record decision')")
    assert "Decision: No further action: The school is dealing with it" in page.inner_text(f"#item-{fifth.id}")
    assert "Decision:" not in page.inner_text(f"#item-{first.id}")
    page.goto(f"{live_server}/tasking/meetings/{meeting.id}/items/{first.id}?q=youths")
    assert serious_violations(page) == []
    shot(page, "agenda-item-page-phone")
    assert page.errors == []
