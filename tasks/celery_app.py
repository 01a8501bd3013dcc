"""Worker entry point: `celery -A tasks.celery_app worker` / `beat`."""
from celery.signals import setup_logging

from portal import create_app
from portal.logging import configure_logging

flask_app = create_app()
celery = flask_app.extensions["celery"]


@setup_logging.connect
def use_portal_logging(loglevel=None, **kwargs):
    """The worker and beat log as the web app does (portal/logging.py), at their --loglevel, instead of
    Celery replacing the root logger's handlers with its own."""
    configure_logging(flask_app, loglevel)
