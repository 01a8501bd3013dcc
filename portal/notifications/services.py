"""Notifications: written to the outbox in the same transaction as the change they announce,
then delivered by SMTP when one is configured (MAIL_SERVER), or left for admins to read.

This feature only stores and delivers messages; what to say and when is decided by the features that
send them (tasking/reminders.py for the overdue reminders and the weekly digest). Every message
links to its page with ``portal_link``: an absolute address from PORTAL_URL.
"""
import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import REMOVED, utcnow
from .models import OutboxMessage

log = logging.getLogger(__name__)


def portal_link(endpoint, **values):
    """The absolute address of a portal page (``endpoint`` and its URL values), built from PORTAL_URL and
    never from a request, so the same link comes out of a web request, a Celery task or the CLI, and
    opens from an email client."""
    base = urlsplit(current_app.config["PORTAL_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def notify(user, subject, body, *, kind, dedupe_key):
    """Queue one message for a user, once per dedupe_key. Flushes; returns the message or None."""
    if user is None or not user.active:
        return None
    return _queue(user.email, user.id, subject, body, kind=kind, dedupe_key=dedupe_key)


def notify_address(email, subject, body, *, kind, dedupe_key, unsubscribe_url=None):
    """Queue one message for someone with no account (a resident following a place, a resident who raised
    a concern online), once per dedupe_key. ``unsubscribe_url`` becomes the one-click List-Unsubscribe
    header (RFC 8058) when the message is sent. Flushes; returns the message or None."""
    return _queue(email, None, subject, body, kind=kind, dedupe_key=dedupe_key, unsubscribe_url=unsubscribe_url)


def _queue(email, user_id, subject, body, *, kind, dedupe_key, unsubscribe_url=None):
    exists = db.session.execute(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)).first()
    if exists:
        return None
    message = OutboxMessage(to_email=email, to_user_id=user_id, subject=subject[:200], body=body,
                            kind=kind, dedupe_key=dedupe_key[:120], unsubscribe_url=unsubscribe_url)
    db.session.add(message)
    db.session.flush()
    return message


def scrub_messages_to_residents(concern, *, text, by):
    """Receiver of concerns.signals.text_redacted: redacted words leave every message to a resident (a
    follower's digest, the outcome sent to whoever raised a concern online) that copied them, before it is
    sent or in the outbox's record of it. Residents have no account: their messages have no user."""
    rows = db.session.execute(select(OutboxMessage).where(
        OutboxMessage.to_user_id.is_(None),
        OutboxMessage.body.contains(text, autoescape=True) | OutboxMessage.subject.contains(text, autoescape=True)))
    for message in rows.scalars():
        message.subject, message.body = message.subject.replace(text, REMOVED), message.body.replace(text, REMOVED)
    return True


def deliver_pending(limit=200):
    """Send what waits in the outbox through SMTP and mark each message sent (or its error); returns how
    many were sent. Without MAIL_SERVER, or with the server unreachable, nothing leaves: returns 0 (the
    messages wait for the next run). Flushes; the caller commits."""
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        return 0
    pending = db.session.execute(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None),
                                                             OutboxMessage.error == "")
                                 .order_by(OutboxMessage.id).limit(limit)).scalars().all()
    if not pending:
        return 0
    sent = 0
    try:
        smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30)
    except OSError as error:  # the server is down: everything stays pending for the next run
        log.warning("Could not reach the mail server %s: %s", config["MAIL_SERVER"], error,
                    extra={"mail_server": config["MAIL_SERVER"], "error": str(error)})
        return 0
    with smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        for message in pending:
            email = EmailMessage()
            email["From"], email["To"], email["Subject"] = (config["MAIL_DEFAULT_SENDER"], message.to_email,
                                                            message.subject)
            if message.unsubscribe_url:
                email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
                email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            email.set_content(message.body)
            try:
                smtp.send_message(email)
                message.sent_at = utcnow()
                if message.to_user_id is None:
                    # A resident's address is kept only to send to it: the outbox's record forgets it once sent.
                    message.to_email = ""
                sent += 1
                log.info("Sent notification %s (%s) to user %s", message.id, message.kind, message.to_user_id,
                         extra={"notification_id": message.id, "kind": message.kind, "user_id": message.to_user_id})
            except smtplib.SMTPException as error:
                message.error = str(error)[:500]
                log.warning("Could not send notification %s: %s", message.id, message.error,
                            extra={"notification_id": message.id, "kind": message.kind, "error": message.error})
    db.session.flush()
    return sent


def recent(limit=200):
    """The latest messages in the outbox, newest first (the admins' outbox page)."""
    return db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)).scalars().all()
