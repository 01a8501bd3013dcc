"""Accounts: sign-in, and the admin's user management. Plain functions; views stay thin."""
from flask import current_app
from sqlalchemy import func, select

from ..access import OFFICER, PARTNER, ROLES
from ..errors import PortalError
from ..extensions import db
from ..models import utcnow
from .models import User
from .policy import may_sign_in

MIN_PASSWORD_LENGTH = 12


def load_user(session_id):
    """Flask-Login's user loader, on every request: the session's "id:version" (User.get_id) must name an
    account that may still sign in, at its current session version. So deactivating an account, signing
    out anywhere or a new password signs out every browser at once."""
    user_id, _, version = str(session_id or "").partition(":")
    try:
        user = db.session.get(User, int(user_id))
        version = int(version)
    except (TypeError, ValueError):
        return None
    if user is None or user.session_version != version or not may_sign_in(user, current_app.config["ENV_NAME"]):
        return None
    return user


def find_by_email(email):
    return db.session.execute(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).scalar_one_or_none()


def authenticate(email, password):
    """The active user with these credentials, or None (same answer for every failure)."""
    user = find_by_email(email or "")
    if not may_sign_in(user, current_app.config["ENV_NAME"]) or not user.check_password(password or ""):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def check_password_rules(password, field="password"):
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise PortalError(f"Password must be at least {MIN_PASSWORD_LENGTH} characters", field=field)


def save_user(user, *, email, display_name, role, organisation, areas, active=True, password=None):
    """Create (user=None) or update a user after checking the rules; commits."""
    email = email.strip().lower()
    if role not in ROLES:
        raise PortalError("Choose a role", field="role")
    other = find_by_email(email)
    if other is not None and other is not user:
        raise PortalError(f"There is already an account for {email}", field="email")
    if role == PARTNER and organisation is None:
        raise PortalError("A partner user must belong to a partner organisation", field="organisation")
    if role == OFFICER and not areas:
        raise PortalError("A neighbourhood officer must cover at least one area", field="areas")
    if user is None:
        if not password:
            raise PortalError("Enter a first password for the new account", field="password")
        user = User()
        db.session.add(user)
    if password:
        check_password_rules(password)
        user.set_password(password)
        if user.id is not None:
            user.end_sessions()  # whoever knew the old password is signed out
    user.email, user.display_name, user.role = email, display_name.strip(), role
    user.organisation, user.areas, user.active = organisation, list(areas), active
    db.session.commit()
    return user


def change_own_password(user, current, new):
    """Set a new password and sign the account out of every browser (the caller signs this one in
    again). Commits; PortalError if the current password is wrong or the new one too short."""
    if not user.check_password(current):
        raise PortalError("Your current password is not right", field="current_password")
    check_password_rules(new, field="new_password")
    user.set_password(new)
    user.end_sessions()
    db.session.commit()


def sign_out_everywhere(user):
    """Signing out ends every session of the account, not only this browser's cookie. Commits."""
    user.end_sessions()
    db.session.commit()
