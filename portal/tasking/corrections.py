"""Corrections to concerns, as they reach tasking: a task's "We did" withdrawn from residents (each of its
published concerns withdrawn through concerns.corrections.withdraw), and text redacted from a concern
scrubbed from what tasking copied of it (agenda item summaries and notes, the texts and logs of the tasks
that answer it, their notifications, and sibling concerns that were given the task's "We did").

Functions here change the session and flush; the caller commits once.
"""
import re

from sqlalchemy import or_, select

from ..concerns import corrections as concern_corrections
from ..concerns.models import REMOVED
from ..errors import NotAllowed, PortalError
from ..extensions import db
from ..feedback import services as feedback
from ..notifications.models import OutboxMessage
from .models import AgendaItem, Task, TaskUpdate, task_concerns
from .policy import can_review
from .task_log import log

TASK_TEXTS = ("title", "problem", "victim", "offender", "location", "blocked_reason", "assessment", "we_did",
              "published_we_did")


def withdraw_we_did(task, *, by, reason):
    """Withdraw a task's "We did" from public view: every published concern it answers is withdrawn (the
    same service as one concern's withdrawal, so each concern's history says why), and the task is no
    longer marked published, so an officer can review and publish it again. Returns the concerns withdrawn.
    Raises NotAllowed unless ``by`` reviews the task's area, PortalError without a reason or anything
    published."""
    if not can_review(by, task):
        raise NotAllowed("Only an officer of the task's area or an admin withdraws its 'We did'")
    published = [concern for concern in task.concerns if concern.published]
    if not published:
        raise PortalError("None of this task's concerns is published, so there is nothing to withdraw",
                          field="reason")
    for concern in published:
        concern_corrections.withdraw(concern, by=by, reason=reason, through="task")
    task.published = False
    log(task, by, text=f"'We did' withdrawn from public view ({len(published)} concern"
                       f"{'s' if len(published) != 1 else ''}): {reason.strip()}")
    db.session.flush()
    return published


def _scrubbed(value, text):
    return value.replace(text, REMOVED) if value and text in value else value


def scrub_redacted_text(concern, *, text, by):
    """Receiver of concerns.signals.text_redacted (connected in create_app): ``text`` leaves every copy
    tasking made of the concern. Sibling concerns answered by the same tasks are scrubbed too, each with
    its own history entry; one ``by`` may not change refuses the whole redaction (NotAllowed)."""
    items = db.session.execute(select(AgendaItem).where(AgendaItem.concern_id == concern.id)).scalars().all()
    for item in items:
        item.summary, item.decision_note = _scrubbed(item.summary, text), _scrubbed(item.decision_note, text)
    linked = select(task_concerns.c.task_id).where(task_concerns.c.concern_id == concern.id)
    decided = [item.resulting_task_id for item in items if item.resulting_task_id]
    tasks = db.session.execute(select(Task).where(or_(Task.id.in_(linked), Task.id.in_(decided)))).scalars().all()
    for task in tasks:
        _scrub_messages(task, text)  # first: it finds the task's messages by its title as it was
        for name in TASK_TEXTS:
            setattr(task, name, _scrubbed(getattr(task, name), text))
        for update in db.session.execute(select(TaskUpdate).where(TaskUpdate.task_id == task.id)).scalars():
            update.text = _scrubbed(update.text, text)
            update.old_value, update.new_value = _scrubbed(update.old_value, text), _scrubbed(update.new_value, text)
        for sibling in task.concerns:
            if sibling.id != concern.id and any(text in (getattr(sibling, f) or "") for f in ("you_said", "we_did")):
                field = "we_did" if text in (sibling.we_did or "") else "you_said"
                concern_corrections.redact_copy(sibling, by=by, text=text, field=field)
                # Residents' comments under the sibling's "We did" may quote the words too.
                feedback.scrub_redacted_text(sibling, text=text, by=by)
    about_tasks = select(AgendaItem).where(AgendaItem.task_id.in_([t.id for t in tasks]),
                                           AgendaItem.summary.contains(text, autoescape=True))
    for other in db.session.execute(about_tasks).scalars():
        other.summary = _scrubbed(other.summary, text)
    return True


def _scrub_messages(task, text):
    """The task's notifications: those that link to /tasks/<id>, and those that name it by title (a
    message to an organisation taken off the task names it without a link to it)."""
    link = re.compile(rf"/tasks/{task.id}(?!\d)")
    title = f"'{task.title}'"
    rows = db.session.execute(select(OutboxMessage).where(
        or_(OutboxMessage.body.contains(text, autoescape=True),
            OutboxMessage.subject.contains(text, autoescape=True)))).scalars()
    for message in rows:
        if link.search(message.body) or title in message.body:
            message.subject, message.body = _scrubbed(message.subject, text), _scrubbed(message.body, text)

