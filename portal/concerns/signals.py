"""Signals concerns sends so that higher features can answer or react without concerns importing them
(concerns never imports tasking). Receivers are connected in one place: ``portal.connect_signals``."""
from blinker import Namespace

signals = Namespace()

# send(user, concern=concern) -> each receiver returns True when that user (a partner) may see the concern.
partner_visibility = signals.signal("concern-partner-visibility")

# send(concern, text=removed, by=user) after part of a concern's public text was replaced with "[removed]":
# each receiver scrubs ``text`` from what its feature copied from the concern (agenda items, tasks, their
# logs and messages), in the same unit of work. Receivers may raise PortalError to refuse the redaction.
text_redacted = signals.signal("concern-text-redacted")

# send(concern, event=the "status" ConcernEvent, by=user) after a concern's status changed (services.change_status,
# the one place any status changes: its page, a bulk action, a tasking decision, a task's review), in the same
# unit of work. Receivers react (tell the resident who raised it online); they may raise PortalError to refuse.
status_changed = signals.signal("concern-status-changed")
