from datetime import date

from celery import shared_task

from portal.notifications import services


@shared_task(name="notifications.deliver")
def deliver():
    """Send what waits in the outbox (nothing leaves without MAIL_SERVER)."""
    return services.deliver_pending()


@shared_task(name="notifications.overdue_reminders")
def overdue_reminders(today=None):
    """Daily: one reminder per overdue task per day; idempotent."""
    queued = services.overdue_reminders(date.fromisoformat(today) if today else None)
    services.deliver_pending()
    return queued


@shared_task(name="notifications.weekly_digest")
def weekly_digest(today=None):
    """Weekly: each partner user's open tasks, once per ISO week."""
    queued = services.weekly_digest(date.fromisoformat(today) if today else None)
    services.deliver_pending()
    return queued
