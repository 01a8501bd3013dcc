"""A task's log: every change to a task is one TaskUpdate entry (who, their organisation, when, what), and
the words each entry is shown in on the task page, in notifications and in conflict messages."""
from datetime import date

from ..extensions import db
from .models import PRIORITIES, STAGE_LABELS, TASK_STATUS_LABELS, TaskUpdate


def log(task, by, **fields):
    """Add an entry to a task's log (who, their organisation, what changed)."""
    entry = TaskUpdate(task=task, by_id=by.id if by else None,
                       organisation_id=by.organisation_id if by else None, **fields)
    db.session.add(entry)
    return entry


def describe(update):
    """A log entry in words: "Due date moved from 3 Mar 2025 to 17 Mar 2025: waiting for CCTV", "stage
    Scanning → Analysis, “text”, link ..."."""
    parts = [_detail_change(update)] if update.field else []
    if update.to_stage and update.from_stage:
        parts.append(f"stage {STAGE_LABELS[update.from_stage]} → {STAGE_LABELS[update.to_stage]}")
    if update.to_status and update.from_status:
        parts.append(f"status {TASK_STATUS_LABELS[update.from_status]} → {TASK_STATUS_LABELS[update.to_status]}")
    if update.text and update.field != "due_on":  # a new due date's reason is part of its sentence
        parts.append(f"“{update.text}”")
    if update.link:
        parts.append(f"link {update.link}")
    return ", ".join(parts) or "details changed"


DETAIL_LABELS = {"due_on": "Due date", "owner": "Owner", "lead_organisation": "Lead partner",
                 "supporting": "Supporting partners", "priority": "Priority"}
PRIORITY_LABELS = dict(PRIORITIES)


def _day(value):
    return f"{value.day} {value:%b %Y}"


def _detail_change(update):
    """One changed detail in words, from the values the log entry kept."""
    old, new = update.old_value, update.new_value
    if update.field == "due_on":
        moved = f"Due date moved from {_day(date.fromisoformat(old))} to {_day(date.fromisoformat(new))}"
        return f"{moved}: {update.text}" if update.text else moved
    if update.field == "we_did":
        return f"'We did' edited since publication, awaiting review: “{new}” (published: “{old}”)"
    if update.field == "priority":
        old, new = PRIORITY_LABELS.get(old, old), PRIORITY_LABELS.get(new, new)
    return f"{DETAIL_LABELS.get(update.field, update.field)} changed from {old or 'none'} to {new or 'none'}"


