"""Thin tasks over the outbox and the task reminders; each commits its unit of work once.
The names stay "notifications.*" so the beat entries in tasks/schedule.py survive the move."""
from datetime import date

from celery import shared_task

from portal.extensions import db
from portal.notifications import services as outbox
from portal.tasking import reminders


def _deliver():
    sent = outbox.deliver_pending()
    db.session.commit()
    return sent


@shared_task(name="notifications.deliver")
def deliver():
    """Send what waits in the outbox (nothing leaves without MAIL_SERVER)."""
    return _deliver()


@shared_task(name="notifications.overdue_reminders")
def overdue_reminders(today=None):
    """Daily: one reminder per overdue task per day; idempotent."""
    queued = reminders.overdue_reminders(date.fromisoformat(today) if today else None)
    db.session.commit()
    _deliver()
    return queued


@shared_task(name="notifications.weekly_digest")
def weekly_digest(today=None):
    """Weekly: each partner user's open tasks, once per ISO week."""
    queued = reminders.weekly_digest(date.fromisoformat(today) if today else None)
    db.session.commit()
    _deliver()
    return queued
