"""Thin tasks over the monthly PMCG pack (portal/pack/services.py); each commits its unit of work once."""
from celery import shared_task

from portal.extensions import db
from portal.notifications import services as outbox
from portal.pack import services


@shared_task(name="pack.announce_issued")
def announce_issued():
    """Beat: queue a link to every newly issued pack for the distribution list, then send the outbox.
    Idempotent: each address is sent each pack once, however often this runs."""
    queued = services.notify_issued_packs()
    db.session.commit()
    outbox.deliver_pending()
    db.session.commit()
    return queued
