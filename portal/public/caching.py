"""The public pages' two caches: what every visitor shares, kept on the server, and the HTTP headers
that let browsers and proxies keep a public response.

Server side (Flask-Caching, ``extensions.cache``: Redis in production, so every gunicorn worker and
host shares one copy): only the bodies and data that are the same for everyone, never a whole page.
The layout carries the signed-in user's name, menu and sign-out form (with its CSRF token), and the
script nonce, so it is rendered for each request. Every key holds the published data's version,
which is itself cached for PUBLIC_CACHE_SECONDS: a publish shows within that many seconds, and a
busy map page costs no database query in between.

HTTP side (``http_cached``): an anonymous visitor's response is ``public, max-age=PUBLIC_CACHE_SECONDS``
with an ETag (304 when it still matches); a signed-in user's is ``private, no-store``.
"""
import hashlib
import itertools
import math
from functools import wraps

from flask import current_app, make_response, request, session
from flask_login import current_user

from ..extensions import cache
from . import services

VERSION_KEY = "data-version"


def _seconds(value):
    return max(1, math.ceil(value))  # Redis takes whole seconds; 0 would mean "for ever"


def _cache_call(method, *args):
    """The cache, or None when it is unreachable: the pages still work while Redis restarts."""
    try:
        return getattr(cache, method)(*args)
    except Exception:  # any backend's connection error, whatever its class
        current_app.logger.warning("public page cache unavailable", exc_info=True)
        return None


def data_version():
    """The published data's version (services.data_version), looked up at most every PUBLIC_CACHE_SECONDS,
    once for all workers."""
    seconds = current_app.config.get("PUBLIC_CACHE_SECONDS", 5)
    if seconds <= 0:
        return services.data_version()
    version = _cache_call("get", VERSION_KEY)
    if version is None:
        version = services.data_version()
        _cache_call("set", VERSION_KEY, version, _seconds(seconds))
    return version


def shared(name, build, *key_parts):
    """What ``build()`` returns for the public page ``name`` with these request parts, built at most once
    per data version for everyone. ``build`` must not depend on who is signed in."""
    digest = hashlib.sha256(repr(key_parts).encode()).hexdigest()[:32]
    key = f"{name}:{data_version()}:{digest}"
    value = _cache_call("get", key)
    if value is None:
        value = build()
        _cache_call("set", key, value)
    return value


def shared_stream(name, build, *key_parts):
    """Like ``shared``, for a body too large to hold (the CSV): ``build()`` yields its pieces, which are
    sent as they come and kept in the cache one by one; once the last is kept, later visitors get the
    pieces from the cache, one at a time. A piece gone from the cache meanwhile is rebuilt from the data
    (same data version, same pieces), so a visitor never gets a short file. Returns (the body's ETag,
    which is its cache key's: the same data and request give the same body, the pieces)."""
    digest = hashlib.sha256(repr(key_parts).encode()).hexdigest()[:32]
    key = f"{name}:{data_version()}:{digest}"
    etag = hashlib.sha256(key.encode()).hexdigest()[:32]
    pieces = _cache_call("get", f"{key}:pieces")

    def from_cache():
        for number in range(pieces):
            piece = _cache_call("get", f"{key}:{number}")
            if piece is None:
                for again in itertools.islice(build(), number, None):
                    yield again
                return
            yield piece

    def built():
        number = 0
        for piece in build():
            _cache_call("set", f"{key}:{number}", piece)
            number += 1
            yield piece
        _cache_call("set", f"{key}:pieces", number)

    return etag, (from_cache() if pieces is not None else built())


def http_cached(view):
    """HTTP caching headers on a public view: see the module's docstring."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        if current_user.is_authenticated:  # private, no-store: the app-wide hook says so for signed-in users
            response.headers.pop("ETag", None)
            return response
        if response.status_code != 200:
            return response
        if session.modified or "Set-Cookie" in response.headers:
            # This visitor's own (a flash message shown, a session begun): not for anyone else.
            response.headers["Cache-Control"] = "private, no-store"
            return response
        response.headers["Cache-Control"] = f"public, max-age={int(current_app.config['PUBLIC_CACHE_SECONDS'])}"
        if response.is_streamed:  # sent as it is read (the CSV), never gathered: its ETag is from shared_stream
            etag = response.get_etag()[0]
            if etag and request.if_none_match.contains_weak(etag):
                response.close()  # the rows are never read
                not_modified = current_app.response_class(status=304)
                not_modified.headers["Cache-Control"] = response.headers["Cache-Control"]
                not_modified.set_etag(etag, weak=True)
                return not_modified
            return response
        body = response.get_data()
        from .. import csp_nonce

        # Weak: two anonymous pages differ only in their script nonce, which the ETag leaves out.
        response.set_etag(hashlib.sha256(body.replace(csp_nonce().encode(), b"")).hexdigest()[:32], weak=True)
        return response.make_conditional(request)

    return wrapper
