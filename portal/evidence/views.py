"""A task's choice of what counts as its evidence (the figures themselves are on the task's page)."""
from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from ..access import ADMIN, OFFICER, PARTNER, allow, get_allowed, require
from ..extensions import db
from ..forms import form_page, render_form
from ..tasking import policy
from ..tasking.models import Task
from ..tasking.views import task_page_part
from . import services
from .forms import EvidenceForm

bp = Blueprint("evidence", __name__)


@task_page_part
def before_and_after(task):
    """The task page's before and after, and its assessment's draft from the figures."""
    if not services.shows_evidence(task):
        return {}
    ev = services.evidence_for(task)
    return {"evidence": ev, "assessment_draft": services.assessment_text(ev)}


@bp.route("/tasks/<int:task_id>/evidence", methods=["GET", "POST"])
@allow(PARTNER, OFFICER, ADMIN)
def choose(task_id):
    task = get_allowed(Task, task_id, policy.can_view)
    require(policy.can_update(current_user, task))
    evidence = services.evidence_for(task)
    form = EvidenceForm(data={"crime_types": evidence.crime_types, "months": evidence.months})
    if form_page("evidence/choose.html", form, task=task, evidence=evidence).validate_on_submit():
        defaults = request.form.get("use") == "defaults"  # the second button: back to the concerns' defaults
        services.choose_evidence(task, by=current_user, crime_types=None if defaults else form.crime_types.data,
                                 months=form.months.data)
        db.session.commit()
        flash("Saved: the before and after counts "
              f"{'the defaults of its concerns' if defaults else 'the crime types you chose'}.", "success")
        return redirect(url_for("tasking.task", task_id=task.id, _anchor="evidence"))
    return render_form("evidence/choose.html", form, task=task, evidence=evidence)
