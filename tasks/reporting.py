"""Thin tasks over portal.reporting: each commits its unit of work once."""
from celery import shared_task
from flask import current_app

from portal.extensions import db
from portal.reporting import services


@shared_task(name="reporting.forget_old_addresses")
def forget_old_addresses():
    """Nightly: residents' addresses older than REPORT_EMAIL_DAYS are deleted, whatever their concern's state."""
    cleared = services.forget_old_addresses(current_app.config["REPORT_EMAIL_DAYS"])
    db.session.commit()
    return cleared
