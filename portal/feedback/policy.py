"""Who may moderate residents' comments: the officers of the concern's area, and admins (the same rule as
changing the concern itself). The services check it on every change, whatever the entry point."""
from ..concerns.policy import can_change


def can_moderate(user, answer):
    return can_change(user, answer.concern)
