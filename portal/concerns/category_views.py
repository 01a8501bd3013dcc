"""What residents raise, by category: Table 1 of the delivery plan, the Community Survey (Table 2) and the
managed list of categories."""
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from ..access import ADMIN, ANALYST, allow
from ..errors import ImportRejected
from ..extensions import db
from ..forms import int_or_none as _int
from ..forms import render_form
from ..places.models import Locality
from . import services, survey
from .blueprint import STAFF, bp
from .forms import CategoryForm, PeriodForm, PublishForm, SurveyUploadForm
from .models import GROUPS, ConcernCategory

# ---- Table 1 and the Community Survey (Table 2) ------------------------------------------------

@bp.route("/top-categories")
@allow(*STAFF)
def top_categories():
    form = PeriodForm(request.args)
    if not request.args:
        # The source document's Table 1 covers the strategic assessment year, October to September.
        today = date.today()
        end_year = today.year if today.month >= 10 else today.year - 1
        form.date_from.data, form.date_to.data = date(end_year - 1, 10, 1), date(end_year, 9, 30)
    elif not form.validate():
        return render_template("concerns/top_categories.html", form=form, table=None), 400
    table = services.table_one(form.date_from.data, form.date_to.data)
    return render_template("concerns/top_categories.html", form=form, table=table)


@bp.route("/survey")
@allow(*STAFF)
def survey_results():
    choices = survey.surveys()
    if not choices:
        return render_template("concerns/survey.html", history=None, choices=[])
    names = {loc.id: loc.name for loc in db.session.execute(select(Locality)).scalars()}
    wanted = request.args.get("survey"), _int(request.args.get("area"))
    chosen = next((c for c in choices if (c[0], c[1]) == wanted), choices[0])
    history = survey.rank_history(chosen[0], chosen[1])
    return render_template("concerns/survey.html", history=history, choices=choices, chosen=chosen, names=names)


@bp.route("/survey/import", methods=["GET", "POST"])
@allow(ADMIN, ANALYST)
def survey_import():
    form = SurveyUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            result = survey.import_results(upload.filename, upload.read())
        except ImportRejected as error:
            form.file.errors = list(form.file.errors) + [f"Nothing was imported. {error.message}"]
        else:
            flash(f"Imported {result.rows} survey results from {result.file} for "
                  f"{', '.join(result.periods)}" + (f", replacing {result.replaced}." if result.replaced else "."),
                  "success")
            return redirect(url_for("concerns.survey_results"))
    return render_form("concerns/survey_import.html", form)


# ---- the managed list of categories --------------------------------------------------------------

@bp.route("/categories", methods=["GET", "POST"])
@allow(ADMIN)
def categories():
    form = CategoryForm()
    form.group.choices = [(g, g) for g in GROUPS]
    if form.validate_on_submit():
        name = form.name.data.strip().upper()
        exists = db.session.execute(select(ConcernCategory).where(ConcernCategory.name == name)).scalar_one_or_none()
        if len(name) > 160:  # capitals can be longer than what was typed ("ß" becomes "SS")
            form.name.errors = ["The name in capitals is longer than 160 characters"]
        elif exists:
            form.name.errors = [f"There is already a category called {name}"]
        else:
            db.session.add(ConcernCategory(group=form.group.data, name=name))
            db.session.commit()
            flash(f"Added {name}.", "success")
            return redirect(url_for("concerns.categories"))
    rows = db.session.execute(select(ConcernCategory).order_by(ConcernCategory.group, ConcernCategory.name)).scalars()
    return render_template("concerns/categories.html", form=form, categories=rows), (
        400 if request.method == "POST" else 200)


@bp.route("/categories/<int:category_id>/retire", methods=["POST"])
@allow(ADMIN)
def retire_category(category_id):
    category = db.get_or_404(ConcernCategory, category_id)
    form = PublishForm()  # just the CSRF token
    if not form.validate_on_submit():
        abort(400)
    category.retired = not category.retired
    db.session.commit()
    flash(f"{category.name} is {'retired: it is no longer offered' if category.retired else 'back in use'}.",
          "success")
    return redirect(url_for("concerns.categories"))
