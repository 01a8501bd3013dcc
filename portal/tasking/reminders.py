"""Reminders about tasks: the daily overdue reminder to each owner and the weekly digest to partners.
Both are idempotent (the outbox's dedupe keys) and flush; the Celery task that runs them commits."""
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..notifications.services import notify, portal_link
from ..people.models import User
from .models import ACTIVE_STATUSES, Task
from .tasks import organisation_tasks


def overdue_reminders(today=None):
    """One reminder per overdue task per day to its owner; returns how many were queued. Running it
    twice on a day queues nothing new."""
    today = today or date.today()
    tasks = db.session.execute(select(Task).where(Task.status.in_(ACTIVE_STATUSES), Task.due_on < today)
                               .options(selectinload(Task.owner)).order_by(Task.due_on)).scalars().all()
    queued = 0
    for task in tasks:
        days = (today - task.due_on).days
        queued += notify(task.owner, f"Overdue: {task.title}",
                         f"The task '{task.title}' was due on {task.due_on:%d %B %Y}, {days} day(s) ago.\n"
                         f"Please update it: {portal_link('tasking.task', task_id=task.id)}", kind="overdue",
                         dedupe_key=f"overdue:{task.id}:{today.isoformat()}") is not None
    db.session.flush()
    return queued


def weekly_digest(today=None):
    """Each partner user's open tasks for their organisation, once per ISO week; returns how many were queued."""
    today = today or date.today()
    year, week, _ = today.isocalendar()
    queued, by_organisation = 0, {}
    users = db.session.execute(select(User).where(User.active, User.organisation_id.is_not(None))).scalars().all()
    for user in users:
        if user.organisation_id not in by_organisation:  # colleagues share one list
            by_organisation[user.organisation_id] = organisation_tasks(user.organisation_id)
        tasks = by_organisation[user.organisation_id]
        if not tasks:
            continue
        lines = [f"- {t.title} (due {t.due_on:%d %b %Y}, {t.status_label.lower()}"
                 f"{', OVERDUE' if t.is_overdue(today) else ''}): {portal_link('tasking.task', task_id=t.id)}"
                 for t in tasks]
        queued += notify(user, f"{user.organisation.name}: {len(tasks)} open task(s), week {week}",
                         "Your organisation's open problem-solving tasks:\n" + "\n".join(lines)
                         + f"\n\nAll of them: {portal_link('tasking.my_tasks')}", kind="digest",
                         dedupe_key=f"digest:{user.id}:{year}-W{week:02d}") is not None
    db.session.flush()
    return queued
