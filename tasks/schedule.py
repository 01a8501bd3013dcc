"""The beat schedule: one table, one entry per periodic job (added as features need them)."""
from celery.schedules import crontab  # noqa: F401

BEAT_SCHEDULE = {}
