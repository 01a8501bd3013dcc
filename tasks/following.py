"""Thin tasks for residents following places; each commits its unit of work once."""
from datetime import datetime

from celery import shared_task

from portal.extensions import db
from portal.following import digest, services
from portal.notifications import services as outbox


@shared_task(name="following.send_digests")
def send_digests(now=None):
    """Daily: each confirmed follower's digest of what was published for its places (none when nothing
    was); idempotent. Forgets sign-ups whose confirmation link expired, then sends the outbox."""
    moment = datetime.fromisoformat(now) if now else None
    queued = digest.send_digests(moment)
    services.forget_unconfirmed(moment)
    db.session.commit()
    outbox.deliver_pending()
    db.session.commit()
    return queued

