import io
from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from .. import spreadsheets
from ..access import ADMIN, ANALYST, OFFICER, PARTNER, SIGNED_IN, allow, get_allowed, require
from ..errors import ConflictError, PortalError
from ..extensions import db
from ..forms import int_or_none as _int, parse_id, render_form, show_error
from ..partners.services import all_organisations
from ..people.models import User
from ..places import services as places
from . import policy, services
from .forms import CorrectionForm, DecisionForm, MeetingForm, ReviewForm, TaskForm, TaskUpdateForm
from .models import ACTIVE_STATUSES, AgendaItem, Task, TaskingMeeting

bp = Blueprint("tasking", __name__)
SAVED_MEANWHILE = ("Someone saved this task at the same moment as you, so your update was not saved. "
                   "Check theirs below and apply yours again.")


def owner_choices():
    users = db.session.execute(select(User).where(User.active, User.organisation_id.is_not(None))
                               .order_by(User.display_name)).scalars()
    return [("", "Choose the owner")] + [(str(u.id), f"{u.display_name} ({u.organisation.name})") for u in users]


def organisation_choices(blank):
    return [("", blank)] + [(str(o.id), o.name) for o in all_organisations(active_only=True)]


# ---- tasks -------------------------------------------------------------------------------------

@bp.route("/tasks/")
@allow(SIGNED_IN)
def my_tasks():
    heading = ("My organisation's tasks" if current_user.is_partner else
               "My areas' tasks" if current_user.is_officer else "All tasks")
    return render_template("tasking/my_tasks.html", groups=services.grouped_for(current_user), heading=heading,
                           today=date.today())


@bp.route("/tasks/new", methods=["GET", "POST"])
@allow(OFFICER, ADMIN)
def new_task():
    form = TaskForm()
    form.locality.choices = [("", "Choose a place")] + [
        (str(i), label) for i, label in places.choices_below_area(None if current_user.is_admin else current_user.area_ids)]
    form.lead_organisation.choices = organisation_choices("Choose the lead partner")
    form.supporting.choices = [(o.id, o.name) for o in all_organisations(active_only=True)]
    form.owner.choices = owner_choices()
    concern_ids = [i for i in map(parse_id, (request.values.get("concerns") or request.args.get("concern") or "")
                                  .split(",")) if i is not None]
    form.concerns.data = ",".join(map(str, concern_ids))  # the page links only ids it could read
    if request.method == "GET" and concern_ids:
        first = db.session.get(services.Concern, concern_ids[0])
        if first is not None:
            form.locality.data = str(first.locality_id)
            form.problem.data = f"Residents said: “{first.you_said}”"
    if form.validate_on_submit():
        try:
            task = services.create_task(
                by=current_user, title=form.title.data, problem=form.problem.data,
                locality_id=_int(form.locality.data), lead_organisation_id=_int(form.lead_organisation.data),
                supporting_ids=form.supporting.data or [], owner_id=_int(form.owner.data), due_on=form.due_on.data,
                priority=form.priority.data, concern_ids=concern_ids)
            db.session.commit()
        except PortalError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash(f"Task raised and assigned to {task.owner.display_name}.", "success")
            return redirect(url_for("tasking.task", task_id=task.id))
    return render_form("tasking/task_form.html", form)


def _visible(task_id):
    return get_allowed(Task, task_id, services.can_view)


def _task_page(task, update_form=None, review_form=None, status=200):
    update_form = update_form or TaskUpdateForm(version=task.version_id, stage=task.stage, status=task.status,
                                                victim=task.victim, offender=task.offender, location=task.location,
                                                assessment=task.assessment, we_did=task.we_did)
    return render_template("tasking/task.html", task=task, form=update_form,
                           review_form=review_form or ReviewForm(version=task.version_id),
                           can_update=services.can_update(current_user, task),
                           can_review=services.can_review(current_user, task),
                           describe=services.describe, today=date.today()), status


@bp.route("/tasks/<int:task_id>")
@allow(SIGNED_IN)
def task(task_id):
    return _task_page(_visible(task_id))


@bp.route("/tasks/<int:task_id>/update", methods=["POST"])
@allow(PARTNER, OFFICER, ADMIN)
def update(task_id):
    task = _visible(task_id)
    require(services.can_update(current_user, task))
    form = TaskUpdateForm()
    if form.validate_on_submit():
        try:
            services.update_task(
                task, by=current_user, version=form.version.data or 0, text=form.text.data or "",
                link=form.link.data or "", stage=form.stage.data, status=form.status.data,
                blocked_reason=form.blocked_reason.data or "", victim=form.victim.data, offender=form.offender.data,
                location=form.location.data, assessment=form.assessment.data, we_did=form.we_did.data)
        except (ConflictError, StaleDataError) as error:
            db.session.rollback()
            form.form_errors.append(getattr(error, "message", SAVED_MEANWHILE))
            # Keep what they typed, but show the latest version so they can reapply it.
            form.version.data = db.session.get(Task, task_id).version_id
        except PortalError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash("Update saved.", "success")
            return redirect(url_for("tasking.task", task_id=task_id))
    return _task_page(db.session.get(Task, task_id), update_form=form, status=409 if form.form_errors else 400)


@bp.route("/tasks/<int:task_id>/review", methods=["POST"])
@allow(OFFICER, ADMIN)
def review(task_id):
    task = _visible(task_id)
    require(services.can_review(current_user, task))
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            services.review_and_publish(task, by=current_user, version=form.version.data or 0)
        except StaleDataError:
            db.session.rollback()
            form.form_errors.append(SAVED_MEANWHILE)
            return _task_page(db.session.get(Task, task_id), review_form=form, status=409)
        except PortalError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            flash("Reviewed: the 'We did' is published and the linked concerns are responded.", "success")
            return redirect(url_for("tasking.task", task_id=task_id))
    return _task_page(db.session.get(Task, task_id), review_form=form, status=400)


# ---- tasking meetings -----------------------------------------------------------------------------

@bp.route("/tasking/meetings/")
@allow(OFFICER, ADMIN, ANALYST)
def meetings():
    query = select(TaskingMeeting).order_by(TaskingMeeting.held_on.desc())
    if current_user.is_officer:
        query = query.where(TaskingMeeting.area_id.in_(current_user.area_ids or {-1}))
    return render_template("tasking/meetings.html", meetings=db.session.execute(query).scalars().all())


@bp.route("/tasking/meetings/new", methods=["GET", "POST"])
@allow(OFFICER, ADMIN)
def new_meeting():
    form = MeetingForm()
    form.area.choices = [("", "Choose the area")] + [
        (str(a.id), a.name) for a in places.areas() if current_user.is_admin or a.id in current_user.area_ids]
    form.attendees.choices = [(o.id, o.name) for o in all_organisations(active_only=True)]
    if form.validate_on_submit():
        try:
            meeting = services.open_meeting(by=current_user, area_id=_int(form.area.data), held_on=form.held_on.data,
                                            next_meeting_on=form.next_meeting_on.data,
                                            attendee_ids=form.attendees.data or [])
        except PortalError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash(f"Agenda built: {len(meeting.items)} items.", "success")
            return redirect(url_for("tasking.meeting", meeting_id=meeting.id))
    return render_form("tasking/meeting_form.html", form)


def _decision_form(meeting, form=None):
    form = form or DecisionForm()
    tasks = db.session.execute(select(Task).where(Task.area_id == meeting.area_id, Task.status.in_(ACTIVE_STATUSES))
                               .order_by(Task.due_on)).scalars()
    form.link_task.choices = [("", "Choose a task")] + [(str(t.id), f"{t.title} (due {t.due_on:%d %b})") for t in tasks]
    form.lead_organisation.choices = organisation_choices("Choose the lead partner")
    form.owner.choices = owner_choices()
    return form


def _meeting_page(meeting, forms=None, status=200):
    return render_template("tasking/meeting.html", meeting=meeting, forms=forms or {},
                           blank=_decision_form(meeting), correction=CorrectionForm(),
                           can_chair=policy.can_chair(current_user, meeting.area_id)), status


def _viewable_meeting(meeting_id):
    return get_allowed(TaskingMeeting, meeting_id, policy.can_view_meeting)


@bp.route("/tasking/meetings/<int:meeting_id>")
@allow(OFFICER, ADMIN, ANALYST)
def meeting(meeting_id):
    return _meeting_page(_viewable_meeting(meeting_id))


@bp.route("/tasking/meetings/<int:meeting_id>/items/<int:item_id>", methods=["POST"])
@allow(OFFICER, ADMIN)
def decide(meeting_id, item_id):
    item = db.get_or_404(AgendaItem, item_id)
    if item.meeting_id != meeting_id:
        return redirect(url_for("tasking.meeting", meeting_id=meeting_id))
    require(policy.can_chair(current_user, item.meeting.area_id))
    form = _decision_form(item.meeting)
    if form.validate_on_submit():
        fields = None
        if form.decision.data == "create_task":
            fields = dict(title=form.title.data or "", problem=item.summary,
                          locality_id=item.concern.locality_id if item.concern else item.meeting.area_id,
                          lead_organisation_id=_int(form.lead_organisation.data), owner_id=_int(form.owner.data),
                          due_on=form.due_on.data)
        try:
            services.decide(item, by=current_user, decision=form.decision.data, note=form.note.data or "",
                            link_task_id=_int(form.link_task.data), task_fields=fields)
        except PortalError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash(f"Decision recorded for item {item.position + 1}.", "success")
            return redirect(url_for("tasking.meeting", meeting_id=meeting_id, _anchor=f"item-{item.id}"))
    meeting = db.session.get(TaskingMeeting, meeting_id)
    return _meeting_page(meeting, forms={item_id: form}, status=400)


@bp.route("/tasking/meetings/<int:meeting_id>/close", methods=["POST"])
@allow(OFFICER, ADMIN)
def close_meeting(meeting_id):
    meeting = db.get_or_404(TaskingMeeting, meeting_id)
    require(policy.can_chair(current_user, meeting.area_id))
    form = CorrectionForm()  # for its CSRF token
    if not form.csrf_token.validate(form):
        return _meeting_page(meeting, status=400)
    try:
        services.close_meeting(meeting, by=current_user)
    except PortalError as error:
        flash(error.message, "info")
    else:
        flash("The meeting is closed. Its record can no longer change; add corrections below it.", "success")
    return redirect(url_for("tasking.meeting", meeting_id=meeting_id))


@bp.route("/tasking/meetings/<int:meeting_id>/corrections", methods=["POST"])
@allow(OFFICER, ADMIN)
def correct(meeting_id):
    meeting = db.get_or_404(TaskingMeeting, meeting_id)
    require(policy.can_chair(current_user, meeting.area_id))
    form = CorrectionForm()
    if form.validate_on_submit():
        services.add_correction(meeting, by=current_user, text=form.text.data)
        flash("Correction added to the record.", "success")
        return redirect(url_for("tasking.meeting", meeting_id=meeting_id))
    return _meeting_page(meeting, status=400)


@bp.route("/tasking/meetings/<int:meeting_id>/record.csv")
@allow(OFFICER, ADMIN, ANALYST)
def meeting_csv(meeting_id):
    meeting = _viewable_meeting(meeting_id)
    buffer = io.StringIO()
    spreadsheets.Writer(buffer).writerows(services.meeting_record_rows(meeting))
    name = f"tasking-{meeting.area.key}-{meeting.held_on:%Y-%m-%d}.csv"
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
