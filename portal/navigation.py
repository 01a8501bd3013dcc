"""The service navigation: what each person sees in the header."""
from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_login import current_user

from .access import may, rule_for


@dataclass
class NavItem:
    label: str
    url: str
    active: bool


# (label, endpoint); an entry shows when its endpoint exists and the user may open it.
ENTRIES = (
    ("You said, we did", "public.home"),
    ("Concerns", "concerns.register"),
    ("Tasks", "tasking.my_tasks"),
    ("Performance", "indicators.report"),
    ("Delivery plan", "plan.index"),
    ("Administration", "people.users"),
)


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
        items.append(NavItem(label, url_for(endpoint), active))
    return items
