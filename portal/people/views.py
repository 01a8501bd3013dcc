from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from ..access import ADMIN, PUBLIC, SIGNED_IN, allow
from ..errors import PortalError
from ..extensions import db, limiter
from ..forms import show_error
from ..partners.models import Organisation
from ..places.models import Locality
from . import services
from .forms import LoginForm, PasswordForm, UserForm
from .models import User

bp = Blueprint("people", __name__)


def safe_next(target):
    """Only same-site paths: never send someone off-site after signing in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def landing_page(user):
    endpoints = current_app.view_functions
    if user.role == "partner" and "tasking.my_tasks" in endpoints:
        return url_for("tasking.my_tasks")
    if user.role == "officer" and "concerns.register" in endpoints:
        return url_for("concerns.register", mine=1)
    if user.role == "analyst" and "indicators.report" in endpoints:
        return url_for("indicators.report")
    return url_for("plan.index")


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(landing_page(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.form_errors.append("Enter a correct email address and password")
        else:
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or landing_page(user))
    return render_template("people/login.html", form=form), (200 if not form.errors else 400)


@bp.route("/logout", methods=["POST"])
@allow(SIGNED_IN)
def logout():
    services.sign_out_everywhere(current_user)
    logout_user()
    flash("You have signed out.", "success")
    return redirect(url_for("people.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@allow(SIGNED_IN)
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            services.change_own_password(current_user, form.current_password.data, form.new_password.data)
        except PortalError as error:
            show_error(form, error)
        else:
            login_user(current_user._get_current_object())  # this browser stays signed in, at the new version
            flash("Your password has been changed. You are signed out everywhere else.", "success")
            return redirect(url_for("plan.index"))
    return render_template("people/password.html", form=form)


@bp.route("/admin/users")
@allow(ADMIN)
def users():
    rows = db.session.execute(select(User).order_by(User.active.desc(), User.display_name)).scalars().all()
    return render_template("people/users.html", users=rows)


def _user_form(user=None):
    form = UserForm(obj=None)
    orgs = db.session.execute(select(Organisation).where(Organisation.active).order_by(Organisation.name)).scalars()
    form.organisation.choices = [("", "None")] + [(str(o.id), o.name) for o in orgs]
    areas = db.session.execute(select(Locality).where(Locality.level == "area").order_by(Locality.name)).scalars()
    form.areas.choices = [(a.id, a.name) for a in areas]
    if user is not None and request.method == "GET":
        form.display_name.data, form.email.data, form.role.data = user.display_name, user.email, user.role
        form.organisation.data = str(user.organisation_id or "")
        form.areas.data = sorted(user.area_ids)
        form.active.data = user.active
    return form


@bp.route("/admin/users/new", methods=["GET", "POST"])
@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@allow(ADMIN)
def edit_user(user_id=None):
    user = db.get_or_404(User, user_id) if user_id else None
    form = _user_form(user)
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, int(form.organisation.data)) if form.organisation.data else None
        areas = db.session.execute(select(Locality).where(Locality.id.in_(form.areas.data or []))).scalars().all()
        if user is not None and user.id == current_user.id and (not form.active.data or form.role.data != ADMIN):
            form.form_errors.append("You cannot deactivate your own account or remove your own admin role")
        else:
            try:
                saved = services.save_user(
                    user, email=form.email.data, display_name=form.display_name.data, role=form.role.data,
                    organisation=organisation, areas=areas, active=form.active.data, password=form.password.data)
            except PortalError as error:
                db.session.rollback()
                show_error(form, error)
            else:
                if saved.id == current_user.id:
                    login_user(saved)  # a new password of their own ends their other sessions, not this one
                flash(f"Saved the account of {saved.display_name}.", "success")
                return redirect(url_for("people.users"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("people/user_form.html", form=form, user=user), status
