"""Accounts: sign-in, and the admin's user management. Plain functions; views stay thin."""
from functools import cache
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..access import OFFICER, PARTNER, ROLES
from ..errors import PortalError
from ..extensions import db
from ..models import utcnow
from .models import User
from .policy import may_sign_in

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128  # hashing a megabyte-long password on every try would be a denial of service
# The 10,000 most common passwords (see common-passwords.LICENSE): refused wherever a password is set.
COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt")


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


@cache
def _dummy_hash():
    return generate_password_hash("not-anyone's-password")


def authenticate(email, password):
    """The active user with these credentials, or None: the same answer, in the same time, for every
    failure (an unknown email is checked against a dummy hash, so timing does not tell who has an account)."""
    user = find_by_email(email or "")
    if user is None or not user.password_hash:
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not user.check_password(password or "") or not may_sign_in(user, current_app.config["ENV_NAME"]):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


@cache
def _common_passwords():
    return frozenset(COMMON_PASSWORDS.read_text(encoding="utf-8").split("\n")) - {""}


def check_password_rules(password, field="password"):
    """Raises PortalError naming ``field`` for a password too short, too long or too common."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise PortalError(f"Password must be at least {MIN_PASSWORD_LENGTH} characters", field=field)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PortalError(f"Password must be at most {MAX_PASSWORD_LENGTH} characters", field=field)
    if password.strip().lower() in _common_passwords():
        raise PortalError("This password is on a list of commonly used passwords: choose another", field=field)


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
