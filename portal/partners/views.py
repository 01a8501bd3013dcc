from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..access import ADMIN, allow
from ..errors import PortalError
from ..extensions import db
from ..forms import show_error, split_names
from . import services
from .forms import OrganisationForm
from .models import Organisation

bp = Blueprint("partners", __name__, url_prefix="/admin/partners")


@bp.route("/")
@allow(ADMIN)
def index():
    return render_template("partners/index.html", organisations=services.all_organisations())


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:organisation_id>", methods=["GET", "POST"])
@allow(ADMIN)
def edit(organisation_id=None):
    org = db.get_or_404(Organisation, organisation_id) if organisation_id else None
    form = OrganisationForm(obj=org if request.method == "GET" else None)
    if request.method == "GET" and org is not None:
        form.aliases.data = ", ".join(org.aliases or [])
    if form.validate_on_submit():
        try:
            saved = services.save_organisation(
                org, name=form.name.data, short_name=form.short_name.data or "", kind=form.kind.data,
                aliases=split_names(form.aliases.data),
                active=form.active.data)
        except PortalError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash(f"Saved {saved.name}.", "success")
            return redirect(url_for("partners.index"))
    return render_template("partners/form.html", form=form, organisation=org), (400 if form.errors else 200)
