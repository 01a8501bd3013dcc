"""Notifications: written to the outbox in the same transaction as the change they announce,
then delivered by SMTP when one is configured (MAIL_SERVER), or left for admins to read.
"""
import logging
import smtplib
from datetime import date
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import utcnow
from .models import OutboxMessage

log = logging.getLogger(__name__)


def notify(user, subject, body, *, kind, dedupe_key):
    """Queue one message for a user, once per dedupe_key. Flushes; returns the message or None."""
    if user is None or not user.active:
        return None
    exists = db.session.execute(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)).first()
    if exists:
        return None
    message = OutboxMessage(to_email=user.email, to_user_id=user.id, subject=subject[:200], body=body,
                            kind=kind, dedupe_key=dedupe_key[:120])
    db.session.add(message)
    db.session.flush()
    return message


def deliver_pending(limit=200):
    """Send what waits in the outbox through SMTP. Without MAIL_SERVER nothing leaves: returns 0."""
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        return 0
    pending = db.session.execute(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None),
                                                             OutboxMessage.error == "")
                                 .order_by(OutboxMessage.id).limit(limit)).scalars().all()
    if not pending:
        return 0
    sent = 0
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        for message in pending:
            email = EmailMessage()
            email["From"], email["To"], email["Subject"] = config["MAIL_DEFAULT_SENDER"], message.to_email, message.subject
            email.set_content(message.body)
            try:
                smtp.send_message(email)
                message.sent_at = utcnow()
                sent += 1
                log.info("Sent notification %s (%s) to user %s", message.id, message.kind, message.to_user_id,
                         extra={"notification_id": message.id, "kind": message.kind, "user_id": message.to_user_id})
            except smtplib.SMTPException as error:
                message.error = str(error)[:500]
                log.warning("Could not send notification %s: %s", message.id, message.error,
                            extra={"notification_id": message.id, "kind": message.kind, "error": message.error})
    db.session.commit()
    return sent


def overdue_reminders(today=None):
    """One reminder per overdue task per day to its owner. Idempotent: running it twice sends nothing new."""
    from ..tasking.models import ACTIVE_STATUSES, Task

    today = today or date.today()
    tasks = db.session.execute(select(Task).where(Task.status.in_(ACTIVE_STATUSES), Task.due_on < today)
                               .order_by(Task.due_on)).scalars().all()
    queued = 0
    for task in tasks:
        days = (today - task.due_on).days
        queued += notify(task.owner, f"Overdue: {task.title}",
                         f"The task '{task.title}' was due on {task.due_on:%d %B %Y}, {days} day(s) ago.\n"
                         f"Please update it: /tasks/{task.id}", kind="overdue",
                         dedupe_key=f"overdue:{task.id}:{today.isoformat()}") is not None
    db.session.commit()
    return queued


def weekly_digest(today=None):
    """Each partner user's open tasks for their organisation, once per ISO week."""
    from ..people.models import User
    from ..tasking.services import organisation_tasks

    today = today or date.today()
    year, week, _ = today.isocalendar()
    queued, by_organisation = 0, {}
    users = db.session.execute(select(User).where(User.active, User.organisation_id.is_not(None))).scalars()
    for user in users:
        if user.organisation_id not in by_organisation:  # colleagues share one list
            by_organisation[user.organisation_id] = organisation_tasks(user.organisation_id)
        tasks = by_organisation[user.organisation_id]
        if not tasks:
            continue
        lines = [f"- {t.title} (due {t.due_on:%d %b %Y}, {t.status_label.lower()}"
                 f"{', OVERDUE' if t.is_overdue(today) else ''})" for t in tasks]
        queued += notify(user, f"{user.organisation.name}: {len(tasks)} open task(s), week {week}",
                         "Your organisation's open problem-solving tasks:\n" + "\n".join(lines), kind="digest",
                         dedupe_key=f"digest:{user.id}:{year}-W{week:02d}") is not None
    db.session.commit()
    return queued


def recent(limit=200):
    return db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)).scalars().all()
