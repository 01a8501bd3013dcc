"""Who may see and change tasks and tasking meetings. Views use these to refuse a record by id
(403); the services check them again before changing anything, so no entry point skips them."""
from ..concerns.policy import can_change as can_change_concern


def can_view(user, task):
    if user.is_admin or user.is_analyst:
        return True
    if user.is_officer:
        return task.area_id in user.area_ids
    return user.organisation_id is not None and user.organisation_id in task.organisation_ids


def can_update(user, task):
    """Analysts read; everyone else who can see a task may update it."""
    return not user.is_analyst and can_view(user, task)


def can_review(user, task):
    return user.is_admin or (user.is_officer and task.area_id in user.area_ids)


def can_chair(user, area_id):
    """Officers of the area (and admins) open, decide, close and correct its tasking meetings."""
    return user.is_admin or (user.is_officer and area_id in user.area_ids)


def can_view_meeting(user, meeting):
    """A meeting's record (and its CSV): its area's officers, admins and analysts."""
    return user.is_admin or user.is_analyst or (user.is_officer and meeting.area_id in user.area_ids)


def can_link_concern(user, area_id, concern):
    """A task of an area links only that area's concerns, and only for someone who may change them
    (linking accepts the concern, shows its notes to the task's partners and later publishes it)."""
    area = concern.locality.area
    return area is not None and area.id == area_id and can_change_concern(user, concern)
