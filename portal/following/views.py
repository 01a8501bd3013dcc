"""Follow a place by email: the sign-up form, the confirmation and the unsubscribe pages.

Never cached (private, no-store: the forms carry a CSRF token). Sign-ups are rate-limited per address
(IP) and per email, and every sign-up gets the same answer whether the email is known or not. The
read-only feeds are in feeds.py, a blueprint nested in this one that public caching applies to.
"""
from flask import Blueprint, current_app, redirect, render_template, request, url_for

from ..access import PUBLIC, allow
from ..extensions import csrf, db, limiter
from ..forms import form_page
from . import feeds, services
from .feeds import place_or_404
from .forms import ButtonForm, FollowForm

bp = Blueprint("following", __name__)
bp.register_blueprint(feeds.bp)


def email_key():
    """The per-email rate limit's key: a digest of the address typed, never the address."""
    return "follow-email:" + services.email_digest((request.form.get("email") or "").strip())


@bp.route("/places/<key>/follow", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(lambda: current_app.config["FOLLOW_RATE_LIMIT"], methods=["POST"])
@limiter.limit(lambda: current_app.config["FOLLOW_EMAIL_RATE_LIMIT"], methods=["POST"], key_func=email_key)
def follow(key):
    place = place_or_404(key)
    form = form_page("following/follow.html", FollowForm(), place=place)
    if form.validate_on_submit():
        services.request_follow(form.email.data, place)
        db.session.commit()
        current_app.extensions["celery"].tasks["notifications.deliver"].delay()  # the link, now
        return redirect(url_for(".check_email", key=place.key))
    return render_template("following/follow.html", form=form, place=place), (400 if form.errors else 200)


@bp.route("/places/<key>/follow/check-your-email")
@allow(PUBLIC)
def check_email(key):
    return render_template("following/check_email.html", place=place_or_404(key))


@bp.route("/follow/confirm/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
def confirm(token):
    # A link opened (or fetched by a mail scanner) changes nothing: the button does.
    form = ButtonForm()
    if form.validate_on_submit():
        place = services.confirm(token)
        db.session.commit()
        return render_template("following/confirmed.html", place=place)
    _, place = services.read_confirmation(token)
    return render_template("following/confirm.html", form=form, place=place)


@bp.route("/follow/unsubscribe/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
@csrf.exempt  # the signed token is the authority; mail apps post RFC 8058's one-click body, with no CSRF token
def unsubscribe(token):
    form = ButtonForm()
    if request.method == "POST":
        if request.form.get("List-Unsubscribe") != "One-Click":
            csrf.protect()  # the page's own button keeps its CSRF token
        services.unsubscribe(token)
        db.session.commit()
        return render_template("following/unsubscribed.html")
    services.read_unsubscribe(token)  # a broken link says so now, not after the button
    return render_template("following/unsubscribe.html", form=form)
