"""Logging, configured once for the web app, the CLI and the Celery workers.

create_app calls configure_logging, and so do the worker and beat (tasks/celery_app.py). Every record at
INFO and above goes to stderr: a readable line in development, one JSON object a line in production
(``PORTAL_ENV=production``) for whatever collects the logs. A log call passes its facts as
``extra={...}``; the JSON lines carry them as fields of their own.
"""
import json
import logging
import sys
from datetime import datetime, timezone

HANDLER_NAME = "portal"
DEVELOPMENT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; any other attribute of a record came from the call's ``extra``.
RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, the call's ``extra``
    fields, and ``exception`` with the traceback when there is one."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update((key, value) for key, value in vars(record).items() if key not in RECORD_ATTRIBUTES)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def configure_logging(app, level=None):
    """Send every logger's records at ``level`` (INFO by default) and above to stderr, formatted for the
    app's environment. Calling it again replaces its own handler, never adds a second one. Under tests it
    does nothing: pytest captures log records itself (``caplog``)."""
    if app.testing:
        return
    from flask.logging import default_handler

    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    production = app.config.get("ENV_NAME") == "production"
    handler.setFormatter(JsonFormatter() if production else logging.Formatter(DEVELOPMENT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level or logging.INFO)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # a line per plugin, every command
    app.logger.removeHandler(default_handler)  # Flask's own handler would print the app's records twice
