"""The Shropshire community safety portal: create_app() builds it."""
import os
import secrets

from flask import Flask, g, render_template

from .config import ROOT, Config, refuse_unsafe
from .logging import configure_logging

# Each feature is a package with models, services, forms and a ``views.bp`` blueprint.
FEATURES = ("public", "people", "places", "partners", "plan", "concerns", "tasking", "notifications", "crime",
            "indicators", "reporting", "evidence", "following", "feedback",
            "dashboard", "pack")
# Blueprints whose anonymous responses may be kept by browsers and proxies (each view opts in with
# portal.public.caching.http_cached); every other blueprint's responses are private, no-store.
PUBLICLY_CACHED_BLUEPRINTS = frozenset({"public", "following.feeds"})


def create_app(config=None):
    """Build the Flask app. ``config`` is a Config instance (TestConfig in tests)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_object(config or Config())
    configure_logging(app)
    os.makedirs(app.instance_path, exist_ok=True)  # the default SQLite file lives here
    refuse_unsafe(app.config)
    register_extensions(app)
    register_converters(app)
    register_blueprints(app)
    register_commands(app)
    register_hooks(app)
    register_error_handlers(app)
    connect_signals(app)
    return app


def connect_signals(app):
    """Every signal receiver, in one place: a lower feature sends, a higher one answers or reacts.
    (blinker keeps one connection per receiver, so building several apps connects each once.)"""
    from .concerns import signals as concern_signals
    from .evidence import services as evidence
    from .feedback import services as feedback
    from .notifications import services as notifications
    from .public import signals as public_signals
    from .reporting import services as reporting
    from .tasking import corrections as tasking_corrections
    from .tasking import policy as tasking_policy

    # A partner sees a concern (and its notes) through a task of their organisation.
    concern_signals.partner_visibility.connect(tasking_policy.partner_sees_concern)
    # Words redacted from a concern leave the agenda items, tasks, task logs and messages that copied them.
    concern_signals.text_redacted.connect(tasking_corrections.scrub_redacted_text)
    # A resident who raised a concern online is told when it is accepted, responded to or closed.
    concern_signals.status_changed.connect(reporting.tell_reporter)
    # Redacted words also leave residents' comments; approved comments are part of what public pages show.
    concern_signals.text_redacted.connect(feedback.scrub_redacted_text)
    # ... and the messages to residents that copied them (digests, outcome emails).
    concern_signals.text_redacted.connect(notifications.scrub_messages_to_residents)
    public_signals.data_version.connect(feedback.data_version_part)
    public_signals.data_version.connect(evidence.data_version_part)  # the line under a "We did"


def register_extensions(app):
    from . import schema  # noqa: F401  (every table, for migrations)
    from .extensions import cache, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    cache.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "people.login"
    login_manager.login_message = "Sign in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    from .people.services import load_user

    login_manager.user_loader(load_user)

    from tasks import celery_init_app

    celery_init_app(app)


def register_converters(app):
    """<int:...> in every route stops at the database's integer range: a longer id is a 404 at the
    router, not an overflow in the database (PostgreSQL) or the driver (SQLite)."""
    from werkzeug.routing import IntegerConverter

    from .forms import MAX_ID

    class DatabaseId(IntegerConverter):
        def __init__(self, map, *args, **kwargs):
            kwargs.setdefault("max", MAX_ID)
            super().__init__(map, *args, **kwargs)

    app.url_map.converters["int"] = DatabaseId


def register_blueprints(app):
    from importlib import import_module

    for feature in FEATURES:
        app.register_blueprint(import_module(f".{feature}.views", __name__).bp)


def register_commands(app):
    from .cli import register

    register(app)


def register_hooks(app):
    from .access import enforce_access
    from .navigation import nav_items, review_count, review_queue

    app.before_request(new_csp_nonce)
    app.before_request(enforce_access)
    app.before_request(refuse_nul_characters)

    from .forms import error_items
    from .maps import with_csp_nonce

    app.jinja_env.globals["form_error_items"] = error_items
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.filters["with_csp_nonce"] = with_csp_nonce
    app.jinja_env.filters["format_date"] = format_date
    # The "Related records" block (templates/macros/related.html) on the concern and task pages reads
    # the chain between them from tasking, so concerns' own code never imports tasking.
    from .tasking.chain import related_to

    app.jinja_env.globals["related_records_of"] = related_to
    # The plain before-and-after line under each published "We did" (portal/evidence), by concern id.
    from .evidence.services import public_lines

    app.jinja_env.globals["evidence_lines_of"] = public_lines
    # The public list links to the county's feeds and sign-up (portal/following).
    from .following.services import county_key

    app.jinja_env.globals["county_key"] = county_key
    # Residents' answers under a "We did": approved comments on the public pages, everything for staff.
    from .feedback import policy as feedback_policy
    from .feedback import services as feedback

    app.jinja_env.globals["approved_comments_of"] = feedback.approved_comments
    app.jinja_env.globals["feedback_for_officers"] = feedback.for_officers
    app.jinja_env.globals["may_moderate_feedback"] = feedback_policy.can_moderate

    @app.context_processor
    def inject_navigation():
        return {"nav_items": nav_items(), "review_count": review_count, "review_queue": review_queue}

    @app.after_request
    def security_headers(response):
        # Everything the pages load is served from our own origin (no CDN). Inline scripts run only with
        # this response's nonce. style-src keeps 'unsafe-inline': templates set style attributes (the
        # assessment's legend colours, places, outbox) and a nonce cannot cover an attribute.
        # A 304 carries no policy: the browser keeps the one stored with the page, whose nonce it holds.
        if response.status_code != 304:
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; "
                f"script-src 'self' 'nonce-{csp_nonce()}'; object-src 'none'; frame-ancestors 'none'; "
                "base-uri 'self'; form-action 'self'",
            )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return private_responses_not_stored(response)


def private_responses_not_stored(response):
    """Internal data never lingers in a browser's or a proxy's cache: anything answered to a signed-in
    person, or by a blueprint not in PUBLICLY_CACHED_BLUEPRINTS, is sent with Cache-Control: private, no-store."""
    from flask import request
    from flask_login import current_user

    if request.endpoint == "static":
        return response
    if request.blueprint not in PUBLICLY_CACHED_BLUEPRINTS or current_user.is_authenticated:
        response.headers["Cache-Control"] = "private, no-store"
        response.headers.pop("Expires", None)
    return response


def refuse_nul_characters():
    """No text in the portal holds NUL (PostgreSQL cannot store it): a request carrying one is refused
    with the name of the field, before any view or query sees it."""
    from flask import abort, request

    values = [*request.args.items(multi=True), *request.form.items(multi=True), *(request.view_args or {}).items()]
    for name, value in values:
        if isinstance(value, str) and "\x00" in value:
            abort(400, description=f"'{name[:60]}' contains a NUL character, which is not text: "
                                   "remove it and try again.")


def register_error_handlers(app):
    from flask_wtf.csrf import CSRFError

    from .errors import ConflictError, NotAllowed, PortalError

    def page(template, status):
        def handler(error):
            return render_template(template, error=error), status

        return handler

    for status in (404, 429, 500):
        app.register_error_handler(status, page(f"errors/{status}.html", status))

    @app.errorhandler(403)
    def forbidden(error):
        from flask import g

        response = app.make_response((render_template("errors/403.html", error=error), 403))
        # Says whether the role was refused or just this record (tests/app/test_access.py relies on it).
        response.headers["X-Access-Refused"] = g.get("access_refused", "role")
        return response

    @app.errorhandler(PortalError)
    def refused(error):
        """The one place a service's refusal becomes a message: the unit of work is rolled back and the
        form page the view declared (``forms.form_page``) is shown again with the message on its field;
        without one, an error page. 403 for NotAllowed, 409 for a conflict, 400 otherwise."""
        from flask import g, request
        from flask_login import current_user

        from .extensions import db
        from .forms import show_error

        db.session.rollback()
        user_id = getattr(current_user, "id", None)  # the message only: a form's contents are never logged
        app.logger.info("Refused %s %s for user %s: %s", request.method, request.path, user_id, error.message,
                        extra={"path": request.path, "user_id": user_id, "refused": error.message})
        status = 403 if isinstance(error, NotAllowed) else 409 if isinstance(error, ConflictError) else 400
        page = g.pop("form_page", None)
        if page is None:
            return render_template("errors/400.html", error=error, message=error.message), status
        template, form, context = page
        show_error(form, error)
        if page_hook := context.pop("on_refused", None):
            page_hook(error)
        return render_template(template, form=form, **context), status

    @app.errorhandler(413)
    def too_large(error):
        # Werkzeug stops reading past MAX_CONTENT_LENGTH: no view ran, so nothing was saved.
        limit = (app.config.get("MAX_CONTENT_LENGTH") or 0) / 1024 / 1024
        return render_template("errors/400.html", error=error, message=(
            f"What you sent is larger than {limit:g} MB, the most the portal takes at once, so nothing was saved. "
            "Go back and send fewer or smaller files.")), 413

    @app.errorhandler(400)
    def bad_request(error):
        custom = error.description != type(error).description
        return render_template("errors/400.html", error=error, message=error.description if custom else None), 400

    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm.exc import StaleDataError

    from .extensions import db

    @app.errorhandler(StaleDataError)
    @app.errorhandler(IntegrityError)
    def saved_meanwhile(error):
        # Two people saving the same record at once: the later save changes nothing and says so.
        # Views that can show the message on their form catch these first.
        db.session.rollback()
        app.logger.info("Concurrent save refused: %s", error)
        return render_template("errors/409.html", message=None), 409

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return render_template("errors/400.html", error=error,
                               message="This form has expired or was not sent by this site. "
                                       "Go back, reload the page and try again."), 400


def csp_nonce():
    """This response's script nonce (templates: ``<script nonce="{{ csp_nonce() }}">``), new for each request."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def new_csp_nonce():
    g.pop("csp_nonce", None)  # tests may run several requests in one app context


def format_date(value):
    """12 Mar 2010, from a date or an ISO date string (public records carry strings)."""
    from datetime import date

    if not value:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value.day} {value:%b %Y}"
