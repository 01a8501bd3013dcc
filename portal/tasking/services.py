"""Kept only for portal/indicators/providers.py, which registers the crime rises on
``services.AGENDA_PROVIDERS``: the tasking code is in agenda.py, meetings.py, tasks.py, reminders.py and
policy.py. Delete this module when the crime pages call the agenda directly."""
from .agenda import AGENDA_PROVIDERS  # noqa: F401  (the same list object)
