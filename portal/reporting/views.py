"""Raise a concern online: the residents' form, its thank-you page and the "stop these emails" link.

Not part of the public blueprint on purpose: these pages carry a CSRF token or a resident's own link, so
they are sent ``private, no-store`` (portal.private_responses_not_stored) and never from the shared cache.
"""
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from sqlalchemy import select

from ..access import PUBLIC, allow
from ..concerns.models import ConcernCategory
from ..errors import PortalError
from ..extensions import csrf, db, limiter
from ..forms import form_page, int_or_none, render_form, show_error
from . import services
from .forms import RaiseConcernForm, StopForm

bp = Blueprint("reporting", __name__, url_prefix="/raise-a-concern")


def concern_form():
    form = RaiseConcernForm()
    categories = db.session.execute(select(ConcernCategory).where(ConcernCategory.retired.is_(False))
                                    .order_by(ConcernCategory.group, ConcernCategory.name)).scalars()
    form.category.choices = [("", "Choose what is happening")] + [(str(c.id), c.name.capitalize()) for c in categories]
    return form


def offer_places(form, matches):
    """Several places match what was typed: the resident picks one (radios work without JavaScript)."""
    form.place_key.choices = [(loc.key, services.place_label(loc)) for loc in matches]


def report_from(form):
    return services.ResidentReport(
        category_id=int_or_none(form.category.data),
        you_said=form.you_said.data or "", place=form.place.data or "", place_key=form.place_key.data or "",
        lat=form.lat.data, lon=form.lon.data, email=form.email.data or "", honeypot=form.website.data or "")


@bp.route("/", methods=["GET", "POST"])
@allow(PUBLIC)
# Counted only when a concern is saved (the redirect): a resident correcting a field is not held back.
@limiter.limit(lambda: current_app.config["REPORT_RATE_LIMIT"], methods=["POST"],
               deduct_when=lambda response: response.status_code == 302)
def raise_concern():
    form = concern_form()
    if form.place_key.data and form.place.data:  # keep the places offered while other fields are put right
        offer_places(form, services.places_named(form.place.data)[:services.MAX_PLACE_MATCHES])

    def on_refused(error):
        if isinstance(error, services.AmbiguousPlace):
            offer_places(form, error.matches)

    if form_page("reporting/form.html", form, on_refused=on_refused).validate_on_submit():
        concern = services.raise_concern(report_from(form))
        db.session.commit()
        session["raised_concern"] = concern.id  # the thank-you page names it, to this visitor only
        return redirect(url_for("reporting.thanks"))
    if request.method == "POST" and not (form.place.errors or form.lat.errors or form.lon.errors):
        check_place(form, on_refused)  # every error at once: the place's too, not on a second round
    return render_form("reporting/form.html", form)


def check_place(form, on_refused):
    """Show what is wrong with the place on a form that other fields already sent back."""
    try:
        services.resolve_place(report_from(form))
    except PortalError as error:
        show_error(form, error)
        on_refused(error)


@bp.route("/thank-you")
@allow(PUBLIC)
def thanks():
    return render_template("reporting/thanks.html", reference=session.get("raised_concern"))


@bp.route("/stop-emails/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
@csrf.exempt  # the token in the link is the credential; mail clients post RFC 8058's one-click body, no CSRF token
def stop_messages(token):
    form = StopForm()
    if request.method == "POST":
        if request.form.get("List-Unsubscribe") != "One-Click":
            csrf.protect()  # the page's own button keeps its CSRF token
        had = services.stop_messages(token)
        db.session.commit()
        return render_template("reporting/stop.html", token=token, done=True, had=had)
    return render_template("reporting/stop.html", token=token, done=False, form=form)
