"""Who may do what to a concern. The services check these on every change, whatever the entry point
(a form, an id in a request, a tasking decision, a task's review), so no caller can skip them."""


def can_change(user, concern):
    """Officers of the concern's area, and admins, may change a concern (its status, count, history, links)."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_admin:
        return True
    if not user.is_officer:
        return False
    area = concern.locality.area
    return area is not None and area.id in user.area_ids


def may_log_in(user, locality):
    """Officers log concerns in their own areas; admins anywhere."""
    if user.is_admin:
        return True
    area = locality.area
    return user.is_officer and area is not None and area.id in user.area_ids
