"""Knowing a browser again without an account: a random id in a cookie signed with the app's secret
(itsdangerous), sent only to the answer pages. The database keeps its SHA-256, never the id itself, so
a leaked table cannot be replayed as cookies. Clearing cookies makes a new browser: the rate limit per
address (FEEDBACK_RATE_LIMIT) bounds what that can do."""
import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "made_a_difference"
COOKIE_PATH = "/you-said-we-did/"
TWO_YEARS = 2 * 365 * 24 * 3600


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="feedback-browser")


def browser_id():
    """This browser's id from its signed cookie, or None (no cookie, or one not signed by us)."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    try:
        found = _serializer().loads(value)
    except BadSignature:
        return None
    return found if isinstance(found, str) and len(found) == 32 else None


def new_browser_id():
    return secrets.token_hex(16)


def remember(response, ident):
    response.set_cookie(COOKIE, _serializer().dumps(ident), max_age=TWO_YEARS, path=COOKIE_PATH, httponly=True,
                        samesite="Lax", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response
