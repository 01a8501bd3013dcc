"""The service navigation: what each person sees in the header, with the count of tasks awaiting
their review on "Tasks" for those who review (one query a page)."""
from dataclasses import dataclass
from typing import Optional

from flask import current_app, request, url_for
from flask_login import current_user

from .access import may, rule_for


@dataclass
class NavItem:
    label: str
    url: str
    active: bool
    count: Optional[int] = None  # shown beside the label when above 0
    count_label: str = ""  # what the count counts, for screen readers


# (label, endpoint); an entry shows when its endpoint exists and the user may open it.
ENTRIES = (
    ("You said, we did", "public.home"),
    ("Concerns", "concerns.register"),
    ("Tasks", "tasking.my_tasks"),
    ("Performance", "indicators.report"),
    ("Dashboard", "dashboard.index"),
    ("Delivery plan", "plan.index"),
    ("Administration", "people.users"),
)


KEY = "portal.review_count"


def review_count():
    """How many tasks await the signed-in person's review: asked once a request (the header and the
    pages that show it share the answer, kept in the request's WSGI environ)."""
    if KEY not in request.environ:
        from .tasking.task_list import awaiting_review_count

        request.environ[KEY] = awaiting_review_count(current_user) if current_user.is_authenticated else 0
    return request.environ[KEY]


def nav_items():
    items = []
    current_bp = request.blueprints[0] if request.blueprints else None
    for label, endpoint in ENTRIES:
        if endpoint not in current_app.view_functions:
            continue
        rule = rule_for(endpoint)
        if rule is None or not may(current_user, rule):
            continue
        bp = endpoint.split(".")[0]
        active = request.endpoint == endpoint or (current_bp == bp and bp not in ("public",))
        if bp == "people" and current_bp in ("places", "partners"):
            active = True
        if bp == "indicators" and current_bp == "crime":  # the crime pages sit under Performance
            active = True
        item = NavItem(label, url_for(endpoint), active)
        if endpoint == "tasking.my_tasks":
            item.count, item.count_label = review_count(), "awaiting your review"
        items.append(item)
    return items


def review_queue(limit=5):
    """The tasks waiting longest for the signed-in person's review (their home page shows them)."""
    from .tasking.task_list import oldest_awaiting_review

    return oldest_awaiting_review(current_user, limit) if review_count() else []
