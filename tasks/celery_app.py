"""Worker entry point: `celery -A tasks.celery_app worker` / `beat`."""
from portal import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
