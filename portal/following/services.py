"""Follow a place: a resident's email address asks for updates, confirms by a link, leaves by a link.

What a visitor is told never depends on whether an address is already signed up (no enumeration):
``request_follow`` always queues one confirmation message and returns nothing. Links are itsdangerous
signatures of the follower's id and an HMAC of its address keyed with SECRET_KEY (never the address
itself, which would land in access logs, nor a plain hash, which an address list would match): a
confirmation link expires after FOLLOW_CONFIRM_HOURS, an unsubscribe link never does, and a link whose
follower was deleted (or whose id now belongs to another address) does nothing. Confirming or
unsubscribing twice changes nothing the second time.
"""
import hashlib
import hmac
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import delete, select

from ..errors import PortalError
from ..extensions import db
from ..models import utcnow
from ..notifications.models import OutboxMessage
from ..notifications.services import notify_address, portal_link
from ..places.models import Locality
from .models import Follower

CONFIRM_SALT, UNSUBSCRIBE_SALT = "follow-confirm", "follow-unsubscribe"
FOLLOW_KINDS = ("follow-confirm", "follow-digest")  # the outbox kinds of what following sends
EXPIRED = ("This link has expired: links to confirm updates work for {hours} hours. "
           "Ask for updates again and use the link in the new email.")
NOT_VALID = "This link is not complete or is no longer valid. Check you copied all of it from the email."


def normalised_email(text):
    """The address as it is stored (lower-cased, IDNA domain), or PortalError on the ``email`` field."""
    try:
        found = validate_email((text or "").strip(), check_deliverability=False)
    except EmailNotValidError:
        raise PortalError("Enter an email address in the correct format, like name@example.org",
                          field="email") from None
    return found.normalized.lower()


def email_digest(email):
    """A short digest of an address: what links and rate-limit keys carry instead of the address. Keyed
    with SECRET_KEY (HMAC-SHA256), so it cannot be matched against a list of addresses without the key."""
    key = current_app.config["SECRET_KEY"]
    key = key if isinstance(key, bytes) else str(key).encode()
    return hmac.new(key, email.lower().encode(), hashlib.sha256).hexdigest()[:24]


def _unkeyed_digest(email):
    """The plain SHA-256 digest links carried before they were keyed: still accepted, never issued, so an
    unsubscribe link in an email already sent keeps working."""
    return hashlib.sha256(email.lower().encode()).hexdigest()[:24]


def followable(key):
    """The active locality residents may follow by its key, or None."""
    return db.session.execute(select(Locality).where(Locality.key == key, Locality.active)).scalar_one_or_none()


def _timed():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CONFIRM_SALT)


def _untimed():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def confirmation_token(follower, locality):
    return _timed().dumps([follower.id, email_digest(follower.email), locality.id])


def unsubscribe_token(follower):
    return _untimed().dumps([follower.id, email_digest(follower.email)])


def unsubscribe_link(follower):
    return portal_link("following.unsubscribe", token=unsubscribe_token(follower))


def request_follow(email, locality):
    """Queue the message that asks ``email`` to confirm updates for ``locality``, whether or not the
    address is known (the visitor is told the same either way). Makes an unconfirmed follower for a new
    address. Raises PortalError (field ``email``) for an address that is not one. Flushes."""
    email = normalised_email(email)
    follower = db.session.execute(select(Follower).where(Follower.email == email)).scalar_one_or_none()
    if follower is None:
        follower = Follower(email=email)
        db.session.add(follower)
    elif follower.confirmed_at is None:
        follower.created_at = utcnow()  # kept while its newest link works (forget_unconfirmed)
    db.session.flush()
    token = confirmation_token(follower, locality)
    hours = current_app.config["FOLLOW_CONFIRM_HOURS"]
    body = (f"Someone, probably you, asked for email updates about {locality.name} from the Shropshire "
            f"Community Safety Partnership: what residents raised there and what was done, and PACT "
            f"meeting dates.\n\nTo start them, open this link and press the button within {hours:g} hours:\n"
            f"{portal_link('following.confirm', token=token)}\n\n"
            "If it was not you, ignore this email: nothing will be sent unless the link is used.")
    notify_address(email, f"Confirm updates for {locality.name}", body, kind="follow-confirm",
                   dedupe_key=f"follow-confirm:{hashlib.sha256(token.encode()).hexdigest()[:48]}")


def _follower_of(payload):
    follower_id, digest = payload[0], payload[1]
    follower = db.session.get(Follower, follower_id) if isinstance(follower_id, int) else None
    if follower is None or not isinstance(digest, str):
        return None
    if not any(hmac.compare_digest(expected.encode(), digest.encode())
               for expected in (email_digest(follower.email), _unkeyed_digest(follower.email))):
        return None
    return follower


def read_confirmation(token):
    """(follower, locality) a confirmation link names, or PortalError if it has expired or is not one."""
    hours = current_app.config["FOLLOW_CONFIRM_HOURS"]
    try:
        payload = _timed().loads(token, max_age=int(hours * 3600))
    except SignatureExpired:
        raise PortalError(EXPIRED.format(hours=f"{hours:g}")) from None
    except BadSignature:
        raise PortalError(NOT_VALID) from None
    follower = _follower_of(payload) if isinstance(payload, list) and len(payload) == 3 else None
    locality = db.session.get(Locality, payload[2]) if follower is not None else None
    if locality is None or not locality.active:
        raise PortalError(NOT_VALID)
    return follower, locality


def confirm(token):
    """Start updates for the place a confirmation link names; returns its locality. Harmless twice.
    Raises PortalError for an expired or broken link. Flushes."""
    follower, locality = read_confirmation(token)
    if follower.confirmed_at is None:
        follower.confirmed_at = utcnow()
    if locality not in follower.places:
        follower.places.append(locality)
    db.session.flush()
    return locality


def read_unsubscribe(token):
    """The follower an unsubscribe link names, or None when it is already gone; PortalError if the link
    is not one."""
    try:
        payload = _untimed().loads(token)
    except BadSignature:
        raise PortalError(NOT_VALID) from None
    if not (isinstance(payload, list) and len(payload) == 2):
        raise PortalError(NOT_VALID)
    return _follower_of(payload)


def unsubscribe(token):
    """Delete the follower an unsubscribe link names, with every place it followed, and the digests and
    confirmation links still waiting in the outbox for its address: nothing more about following goes to
    it. (A message about a concern the resident reported is not an update of a followed place: it stays.)
    Harmless twice. Raises PortalError if the link is not one. Flushes."""
    follower = read_unsubscribe(token)
    if follower is not None:
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.to_email == follower.email,
                                                       OutboxMessage.to_user_id.is_(None),
                                                       OutboxMessage.kind.in_(FOLLOW_KINDS),
                                                       OutboxMessage.sent_at.is_(None)))
        db.session.delete(follower)
        db.session.flush()


def forget_unconfirmed(now=None):
    """Delete sign-ups whose confirmation link has expired; returns how many. Flushes."""
    hours = current_app.config["FOLLOW_CONFIRM_HOURS"]
    cutoff = (now or utcnow()) - timedelta(hours=hours)
    result = db.session.execute(delete(Follower).where(Follower.confirmed_at.is_(None),
                                                       Follower.created_at < cutoff))
    db.session.flush()
    return result.rowcount


def county_key():
    """The county's locality key (what "all of Shropshire" follows), looked up once per process."""
    key = current_app.extensions.get("county_key")
    if key is None:
        key = db.session.execute(select(Locality.key).where(Locality.level == "county", Locality.active)
                                 .order_by(Locality.id)).scalars().first() or ""
        current_app.extensions["county_key"] = key
    return key
