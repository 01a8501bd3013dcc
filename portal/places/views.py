from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from ..access import ADMIN, allow
from ..extensions import db
from ..forms import form_page, split_names
from . import services
from .forms import LocalityForm
from .models import Locality

bp = Blueprint("places", __name__, url_prefix="/admin/localities")


@bp.route("/")
@allow(ADMIN)
def index():
    return render_template("places/index.html", rows=services.tree())


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:locality_id>", methods=["GET", "POST"])
@allow(ADMIN)
def edit(locality_id=None):
    loc = db.get_or_404(Locality, locality_id) if locality_id else None
    form = LocalityForm(obj=loc if request.method == "GET" else None)
    form.parent.choices = [("", "None (the county)")] + [
        (str(locality.id), f"{'— ' * depth}{locality.name} ({locality.level_label})")
        for depth, locality in services.tree() if locality.level != "ward" and locality is not loc]
    if request.method == "GET" and loc is not None:
        form.parent.data = str(loc.parent_id or "")
        form.aliases.data = ", ".join(loc.aliases or [])
    if form_page("places/form.html", form, locality=loc).validate_on_submit():
        parent = db.session.get(Locality, int(form.parent.data)) if form.parent.data else None
        saved, figures_move = services.save_locality(
            loc, key=form.key.data, name=form.name.data, level=form.level.data, parent=parent,
            population=form.population.data, population_source=form.population_source.data,
            population_estimated=form.population_estimated.data, aliases=split_names(form.aliases.data),
            active=form.active.data)
        db.session.commit()
        if figures_move:  # rates and the tree the stored figures were computed with have changed
            current_app.extensions["celery"].tasks["indicators.rollup"].delay(None, None, ["police_crime"])
        flash(f"Saved {saved.name}.", "success")
        return redirect(url_for("places.index"))
    status = 400 if form.errors else 200
    return render_template("places/form.html", form=form, locality=loc), status
