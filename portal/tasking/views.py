from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from ..access import ADMIN, ANALYST, OFFICER, PARTNER, SIGNED_IN, allow, get_allowed, require
from ..concerns.forms import WithdrawForm
from ..concerns.models import Concern
from ..errors import ConflictError, NotAllowed, PortalError
from ..extensions import db
from ..forms import commit_or_conflict, form_page, parse_id, render_form, show_error
from ..forms import int_or_none as _int
from ..partners.services import all_organisations
from ..places import services as places
from ..plan.services import action_choices
from . import attachments, coverage, policy, task_list
from . import corrections as task_corrections
from . import task_details as detail_services
from . import tasks as task_services
from .blueprint import bp
from .choices import organisation_choices, owner_choices
from .forms import (
    TaskDetailsForm,
    TaskFilterForm,
    TaskForm,
    TaskUpdateForm,
    WithdrawFileForm,
    review_form_for,
)
from .models import COMPLETED, Task
from .task_log import describe

SAVED_MEANWHILE = ("Someone saved this task at the same moment as you, so your update was not saved. "
                   "Check theirs below and apply yours again.")


# ---- tasks -------------------------------------------------------------------------------------

@bp.route("/tasks/")
@allow(SIGNED_IN)
def my_tasks():
    heading = ("My organisation's tasks" if current_user.is_partner else
               "My areas' tasks" if current_user.is_officer else "All tasks")
    form = task_filter_form()
    filters = form.filters()
    page = task_list.task_page(current_user, after=request.args.get("after"), before=request.args.get("before"),
                               filters=filters)
    return render_template("tasking/my_tasks.html", page=page, heading=heading, today=date.today(), form=form,
                           filters=filters, args=filters.query_args()), 400 if form.errors else 200


def task_filter_form():
    """The task list's filter form read from the query string, its choices filled and validated."""
    form = TaskFilterForm(request.args)
    form.area.choices = [("", "All areas")] + [(str(a.id), a.name) for a in places.areas()]
    # Every organisation, active or not: a past lead is still a filter the dashboard links to.
    form.lead.choices = [("", "Any lead partner")] + [(str(o.id), o.name) for o in all_organisations()]
    form.validate()
    return form


@bp.route("/tasks/new", methods=["GET", "POST"])
@allow(OFFICER, ADMIN)
def new_task():
    form = TaskForm()
    form.locality.choices = [("", "Choose a place")] + [
        (str(i), label)
        for i, label in places.choices_below_area(None if current_user.is_admin else current_user.area_ids)]
    form.lead_organisation.choices = organisation_choices("Choose the lead partner")
    form.supporting.choices = [(o.id, o.name) for o in all_organisations(active_only=True)]
    form.owner.choices = owner_choices()
    form.action.choices = action_choices()
    concern_ids = [i for i in map(parse_id, (request.values.get("concerns") or request.args.get("concern") or "")
                                  .split(",")) if i is not None]
    form.concerns.data = ",".join(map(str, concern_ids))  # the page links only ids it could read
    if request.method == "GET" and concern_ids:
        first = db.session.get(Concern, concern_ids[0])
        if first is not None:
            form.locality.data = str(first.locality_id)
            form.problem.data = f"Residents said: “{first.you_said}”"
    if form_page("tasking/task_form.html", form).validate_on_submit():
        task = task_services.create_task(
            by=current_user, title=form.title.data, problem=form.problem.data,
            locality_id=_int(form.locality.data), lead_organisation_id=_int(form.lead_organisation.data),
            supporting_ids=form.supporting.data or [], owner_id=_int(form.owner.data), due_on=form.due_on.data,
            priority=form.priority.data, concern_ids=concern_ids,
            action_id=_int(form.action.data) or 0)  # 0 (not an id) is refused like any unknown action
        db.session.commit()
        flash(f"Task raised and assigned to {task.owner.display_name}.", "success")
        return redirect(url_for("tasking.task", task_id=task.id))
    return render_form("tasking/task_form.html", form)


def _visible(task_id):
    return get_allowed(Task, task_id, policy.can_view)


def _review_form(task, **kwargs):
    return review_form_for(task, task_services.concerns_to_answer(task), **kwargs)


# Features that add to a task's page register a part here, so tasking never imports them: a function of the
# task returning names for the page (the evidence feature gives "evidence" and an "assessment_draft").
TASK_PAGE_PARTS = []


def task_page_part(build):
    TASK_PAGE_PARTS.append(build)
    return build


def _task_page_context(task, update_form=None, review_form=None):
    parts = {}
    for build in TASK_PAGE_PARTS:
        parts.update(build(task))
    # The page's other form is shown as it was saved, never read from a request meant for this one. An empty
    # assessment starts from a draft a part offers (the before-and-after figures).
    return dict(task=task, evidence=parts.get("evidence"), form=update_form or TaskUpdateForm(
                    formdata=None, version=task.version_id, stage=task.stage, status=task.status, victim=task.victim,
                    offender=task.offender, location=task.location, we_did=task.we_did,
                    assessment=task.assessment or parts.get("assessment_draft", "")),
                review_form=review_form or _review_form(task, formdata=None, version=task.version_id),
                review_concerns=task_services.concerns_to_answer(task),
                can_update=policy.can_update(current_user, task), can_review=policy.can_review(current_user, task),
                can_change_details=policy.can_change_details(current_user, task),
                files=attachments.files_of(task), can_withdraw_file=policy.can_withdraw_file,
                max_file_mb=current_app.config["TASK_FILE_MAX_MB"], max_files=attachments.MAX_FILES,
                describe=describe, today=date.today())


def _task_page(task, update_form=None, review_form=None, status=200):
    return render_template("tasking/task.html", **_task_page_context(task, update_form, review_form)), status


def _latest_version_on_conflict(task_id, *forms):
    """After a conflict the forms keep what was typed but carry the task's latest version, so the user can
    apply it again (``on_refused`` of form_page)."""
    def latest_version(error):
        if isinstance(error, ConflictError):
            version = db.session.get(Task, task_id).version_id
            for form in forms:
                form.version.data = version

    return latest_version


def _declare_task_page(task, form):
    """The task's page is where a refused update is shown again."""
    context = _task_page_context(task, update_form=form)
    del context["form"]
    return form_page("tasking/task.html", form, **context,
                     on_refused=_latest_version_on_conflict(task.id, form, context["review_form"]))


@bp.route("/tasks/<int:task_id>")
@allow(SIGNED_IN)
def task(task_id):
    return _task_page(_visible(task_id))


@bp.route("/tasks/<int:task_id>/update", methods=["POST"])
@allow(PARTNER, OFFICER, ADMIN)
def update(task_id):
    task = _visible(task_id)
    require(policy.can_update(current_user, task))
    form = TaskUpdateForm()
    if _declare_task_page(task, form).validate_on_submit():
        entry = commit_or_conflict(SAVED_MEANWHILE, lambda: attachments.update_with_files(
            task, by=current_user, files=request.files.getlist("files"), version=form.version.data or 0,
            text=form.text.data or "", link=form.link.data or "", stage=form.stage.data, status=form.status.data,
            blocked_reason=form.blocked_reason.data or "", victim=form.victim.data, offender=form.offender.data,
            location=form.location.data, assessment=form.assessment.data, we_did=form.we_did.data))
        if entry.to_status == COMPLETED:  # the area's officers are asked to review: send it now, not in 5 minutes
            current_app.extensions["celery"].tasks["notifications.deliver"].delay()
        flash("Update saved.", "success")
        return redirect(url_for("tasking.task", task_id=task_id))
    return _task_page(task, update_form=form, status=400)


@bp.route("/tasks/<int:task_id>/details", methods=["GET", "POST"])
@allow(PARTNER, OFFICER, ADMIN)
def task_details(task_id):
    task = _visible(task_id)
    require(policy.can_change_details(current_user, task))
    form = TaskDetailsForm(version=task.version_id, due_on=task.due_on, owner=str(task.owner_id),
                           lead_organisation=str(task.lead_organisation_id), priority=task.priority,
                           supporting=[str(o.id) for o in task.supporting_organisations])
    form.owner.choices = [("", "Choose the owner")] + [
        (str(u.id), f"{u.display_name} ({u.organisation.name})")
        for u in detail_services.owner_candidates(current_user, task)]
    form.lead_organisation.choices = [(str(o.id), o.name)
                                      for o in detail_services.lead_candidates(current_user, task)]
    form.supporting.choices = [(str(o.id), o.name) for o in detail_services.supporting_candidates(task)]
    if form_page("tasking/task_details.html", form, task=task,
                 on_refused=_latest_version_on_conflict(task_id, form)).validate_on_submit():
        commit_or_conflict(SAVED_MEANWHILE, lambda: detail_services.change_task_details(
            task, by=current_user, version=form.version.data or 0, due_on=form.due_on.data,
            due_reason=form.due_reason.data or "", owner_id=_int(form.owner.data),
            lead_organisation_id=_int(form.lead_organisation.data),
            supporting_ids=[parse_id(value) for value in form.supporting.data or []], priority=form.priority.data))
        flash("Task details changed.", "success")
        return redirect(url_for("tasking.task", task_id=task_id))
    return render_form("tasking/task_details.html", form, task=task)


@bp.route("/tasks/<int:task_id>/review", methods=["POST"])
@allow(OFFICER, ADMIN)
def review(task_id):
    task = _visible(task_id)
    require(policy.can_review(current_user, task))
    concerns = task_services.concerns_to_answer(task)
    form = review_form_for(task, concerns)
    # The review form is the page's second form (the error handler re-renders a page's main ``form``),
    # so this view shows its refusal itself, after rolling the unit of work back.
    status = 400
    if form.validate_on_submit():
        try:
            commit_or_conflict(SAVED_MEANWHILE, lambda: task_services.review_and_publish(
                task, by=current_user, version=form.version.data or 0,
                we_did_by_concern={c.id: form[f"we_did_{c.id}"].data or "" for c in concerns}))
        except PortalError as error:
            db.session.rollback()
            show_error(form, error)
            _latest_version_on_conflict(task_id, form)(error)
            status = 403 if isinstance(error, NotAllowed) else 409 if isinstance(error, ConflictError) else 400
        else:
            flash("Reviewed: the 'We did' is published and the linked concerns are responded.", "success")
            return redirect(url_for("tasking.task", task_id=task_id))
    return _task_page(db.session.get(Task, task_id), review_form=form, status=status)


@bp.route("/tasks/<int:task_id>/withdraw", methods=["GET", "POST"])
@allow(OFFICER, ADMIN)
def withdraw_we_did(task_id):
    """Withdraw a task's published "We did" (each concern it answers) from public view, with a reason."""
    task = _visible(task_id)
    require(policy.can_review(current_user, task))
    form = WithdrawForm()
    page = dict(task=task, concern=None, concerns=[c for c in task.concerns if c.published],
                action=url_for("tasking.withdraw_we_did", task_id=task.id),
                back=url_for("tasking.task", task_id=task.id))
    if form_page("concerns/withdraw.html", form, **page).validate_on_submit():
        withdrawn = commit_or_conflict(SAVED_MEANWHILE, lambda: task_corrections.withdraw_we_did(
            task, by=current_user, reason=form.reason.data))
        flash(f"Withdrawn from public view: {len(withdrawn)} concern{'s' if len(withdrawn) != 1 else ''}. "
              "Review and publish the task again to put its 'We did' back.", "success")
        return redirect(url_for("tasking.task", task_id=task_id))
    return render_form("concerns/withdraw.html", form, **page)


@bp.route("/tasks/<int:task_id>/files/<int:file_id>")
@allow(SIGNED_IN)
def task_file(task_id, file_id):
    """A task's photo or document, to the people who may see the task: pictures shown, others downloaded."""
    task = _visible(task_id)
    found = attachments.servable(current_user, task, file_id)
    if found is None:
        abort(404)
    task_file, path = found
    response = send_file(path, mimetype=task_file.content_type, as_attachment=not task_file.is_image,
                         download_name=task_file.name, conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/tasks/<int:task_id>/files/<int:file_id>/withdraw", methods=["GET", "POST"])
@allow(PARTNER, OFFICER, ADMIN)
def withdraw_file(task_id, file_id):
    """Withdraw a file with a reason: it stays on record but is no longer shown."""
    task = _visible(task_id)
    task_file = attachments.file_of(task, file_id)
    if task_file is None:
        abort(404)
    require(policy.can_withdraw_file(current_user, task_file))
    form = WithdrawFileForm()
    if form_page("tasking/withdraw_file.html", form, task=task, task_file=task_file).validate_on_submit():
        attachments.withdraw_file(task_file, by=current_user, reason=form.reason.data)
        db.session.commit()
        flash(f"{task_file.name} withdrawn: it is no longer shown, and the log says why.", "success")
        return redirect(url_for("tasking.task", task_id=task_id, _anchor="task-files"))
    return render_form("tasking/withdraw_file.html", form, task=task, task_file=task_file)


# ---- where nobody is working yet ------------------------------------------------------------------

@bp.route("/tasking/coverage/")
@allow(OFFICER, ADMIN, ANALYST)
def coverage_areas():
    return render_template("tasking/coverage_areas.html", areas=places.areas())


@bp.route("/tasking/coverage/<string:key>")
@allow(OFFICER, ADMIN, ANALYST)
def area_coverage(key):
    """An area's wards by crime and ASB rate and by rise against their live tasks and open concerns, and
    the three signals (survey, PACT, police data) of the area or a place in it (``?place=<key>``)."""
    area = coverage.area_by_key(key) or abort(404)
    place = coverage.place_in(area, request.args.get("place")) or abort(404)
    return render_template("tasking/coverage.html", area=area, coverage=coverage.area_coverage(area), place=place,
                           signals=coverage.locality_signals(place), places_in_area=coverage.places_in(area))


# The Bronze tasking meetings' routes are on this blueprint too.
from . import meeting_views  # noqa: E402,F401
