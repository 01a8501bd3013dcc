"""Who may do what to a concern. The services check these on every change, whatever the entry point
(a form, an id in a request, a tasking decision, a task's review), so no caller can skip them."""
from .signals import partner_visibility


def can_change(user, concern):
    """Officers of the concern's area, and admins, may change a concern (its status, count, history, links)."""
    if user is None or not user.is_authenticated:
        return False
    return user.covers(concern.locality.area)


def may_log_in(user, locality):
    """Officers log concerns in their own areas; admins anywhere."""
    return user.covers(locality.area)


def can_view(user, concern):
    """Staff see every concern; a partner only when a receiver of ``partner_visibility`` says so (tasking
    answers: through a task of their organisation)."""
    if user.is_admin or user.is_analyst or user.is_officer:
        return True
    return user.is_partner and any(seen for _, seen in partner_visibility.send(user, concern=concern))


def can_see_internal_notes(user, concern):
    """Internal notes: staff of the partnership's core (officers, admins, analysts); partners only on their tasks."""
    return can_view(user, concern)
