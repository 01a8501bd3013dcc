"""Accounts: sign-in, and the admin's user management. Plain functions; views stay thin."""
from sqlalchemy import func, select

from ..access import OFFICER, PARTNER, ROLES
from ..errors import PortalError
from ..extensions import db
from ..models import utcnow
from .models import User

MIN_PASSWORD_LENGTH = 12


def load_user(user_id):
    """Flask-Login's user loader: inactive accounts are signed out at once."""
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.active else None


def find_by_email(email):
    return db.session.execute(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).scalar_one_or_none()


def authenticate(email, password):
    """The active user with these credentials, or None (same answer for every failure)."""
    user = find_by_email(email or "")
    if user is None or not user.active or not user.check_password(password or ""):
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
    user.email, user.display_name, user.role = email, display_name.strip(), role
    user.organisation, user.areas, user.active = organisation, list(areas), active
    db.session.commit()
    return user


def change_own_password(user, current, new):
    if not user.check_password(current):
        raise PortalError("Your current password is not right", field="current_password")
    check_password_rules(new, field="new_password")
    user.set_password(new)
    db.session.commit()
