"""Roles and route access rules.

Every view states who may use it with ``@allow(...)``. A request to a view
that states nothing is refused (deny by default), and
tests/app/test_access.py walks every URL rule to prove each statement holds.
"""
from functools import wraps

from flask import abort, current_app, g, request
from flask_login import current_user

ADMIN = "admin"
OFFICER = "officer"
PARTNER = "partner"
ANALYST = "analyst"
ROLES = (ADMIN, OFFICER, PARTNER, ANALYST)
ROLE_LABELS = {
    ADMIN: "Administrator",
    OFFICER: "Neighbourhood officer",
    PARTNER: "Partner agency member",
    ANALYST: "Analyst",
}

PUBLIC = "public"  # residents, no account
SIGNED_IN = "signed-in"  # any active account


def allow(*who):
    """Declare who may call a view: PUBLIC, SIGNED_IN, or one or more roles."""
    if not who:
        raise ValueError("allow() needs at least one role")
    unknown = set(who) - set(ROLES) - {PUBLIC, SIGNED_IN}
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            return view(*args, **kwargs)

        wrapper.access = frozenset(who)
        return wrapper

    return decorate


def rule_for(endpoint):
    """The declared access set of an endpoint, or None if it declared nothing."""
    if endpoint == "static":
        return frozenset({PUBLIC})
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access", None)


def may(user, rule):
    if PUBLIC in rule:
        return True
    if not user.is_authenticated:
        return False
    return SIGNED_IN in rule or user.role in rule


def enforce_access():
    """before_request hook: apply the rule of the endpoint being called."""
    if request.endpoint is None:  # 404s and 405s are for Flask to answer
        return None
    rule = rule_for(request.endpoint)
    if rule is None:
        current_app.logger.error("No access rule declared for %s", request.endpoint)
        abort(403)
    if PUBLIC in rule:
        return None
    if not current_user.is_authenticated:
        from .extensions import login_manager

        return login_manager.unauthorized()
    if not may(current_user, rule):
        g.access_refused = "role"
        abort(403)
    return None


def require(condition):
    """Object-level checks inside services/views: 403 unless condition holds."""
    if not condition:
        g.access_refused = "record"  # the role may use the page, but not for this record
        abort(403)


def get_allowed(model, ident, may_see):
    """The record, 404 if it does not exist, 403 if ``may_see(current_user, record)`` says no."""
    from .extensions import db

    record = db.get_or_404(model, ident)
    require(may_see(current_user, record))
    return record
