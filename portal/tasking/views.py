import io
from datetime import date

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import spreadsheets
from ..access import ADMIN, ANALYST, OFFICER, PARTNER, SIGNED_IN, allow, get_allowed, require
from ..concerns.forms import WithdrawForm
from ..concerns.models import Concern
from ..errors import ConflictError, NotAllowed, PortalError
from ..extensions import db
from ..forms import commit_or_conflict, form_page, parse_id, render_form, show_error
from ..forms import int_or_none as _int
from ..partners.services import all_organisations
from ..people.models import User
from ..places import services as places
from ..plan.services import action_choices
from . import corrections as task_corrections
from . import meetings as meeting_services
from . import policy, task_list
from . import tasks as task_services
from .forms import (
    CorrectionForm,
    DecisionForm,
    MeetingForm,
    TaskDetailsForm,
    TaskForm,
    TaskUpdateForm,
    review_form_for,
)
from .models import ACTIVE_STATUSES, COMPLETED, AgendaItem, Task, TaskingMeeting

bp = Blueprint("tasking", __name__)
SAVED_MEANWHILE = ("Someone saved this task at the same moment as you, so your update was not saved. "
                   "Check theirs below and apply yours again.")


def owner_choices():
    users = db.session.execute(select(User).where(User.active, User.organisation_id.is_not(None))
                               .options(selectinload(User.organisation)).order_by(User.display_name)).scalars()
    return [("", "Choose the owner")] + [(str(u.id), f"{u.display_name} ({u.organisation.name})") for u in users]


def organisation_choices(blank):
    return [("", blank)] + [(str(o.id), o.name) for o in all_organisations(active_only=True)]


# ---- tasks -------------------------------------------------------------------------------------

@bp.route("/tasks/")
@allow(SIGNED_IN)
def my_tasks():
    heading = ("My organisation's tasks" if current_user.is_partner else
               "My areas' tasks" if current_user.is_officer else "All tasks")
    page = task_list.task_page(current_user, after=request.args.get("after"), before=request.args.get("before"))
    return render_template("tasking/my_tasks.html", page=page, heading=heading, today=date.today())


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


def _task_page_context(task, update_form=None, review_form=None):
    # The page's other form is shown as it was saved, never read from a request meant for this one.
    return dict(task=task, form=update_form or TaskUpdateForm(
                    formdata=None, version=task.version_id, stage=task.stage, status=task.status, victim=task.victim,
                    offender=task.offender, location=task.location, assessment=task.assessment, we_did=task.we_did),
                review_form=review_form or _review_form(task, formdata=None, version=task.version_id),
                review_concerns=task_services.concerns_to_answer(task),
                can_update=policy.can_update(current_user, task), can_review=policy.can_review(current_user, task),
                can_change_details=policy.can_change_details(current_user, task),
                describe=task_services.describe, today=date.today())


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
        entry = commit_or_conflict(SAVED_MEANWHILE, lambda: task_services.update_task(
            task, by=current_user, version=form.version.data or 0, text=form.text.data or "",
            link=form.link.data or "", stage=form.stage.data, status=form.status.data,
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
        for u in task_services.owner_candidates(current_user, task)]
    form.lead_organisation.choices = [(str(o.id), o.name)
                                      for o in task_services.lead_candidates(current_user, task)]
    form.supporting.choices = [(str(o.id), o.name) for o in task_services.supporting_candidates(task)]
    if form_page("tasking/task_details.html", form, task=task,
                 on_refused=_latest_version_on_conflict(task_id, form)).validate_on_submit():
        commit_or_conflict(SAVED_MEANWHILE, lambda: task_services.change_task_details(
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
        (str(a.id), a.name) for a in places.areas() if current_user.covers(a)]
    form.attendees.choices = [(o.id, o.name) for o in all_organisations(active_only=True)]
    if form_page("tasking/meeting_form.html", form).validate_on_submit():
        meeting = meeting_services.open_meeting(by=current_user, area_id=_int(form.area.data),
                                                held_on=form.held_on.data, next_meeting_on=form.next_meeting_on.data,
                                                attendee_ids=form.attendees.data or [])
        db.session.commit()
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


def _meeting_page_context(meeting, forms=None):
    return dict(meeting=meeting, forms=forms or {}, blank=_decision_form(meeting), correction=CorrectionForm(),
                can_chair=policy.can_chair(current_user, meeting.area_id))


def _meeting_page(meeting, forms=None, status=200):
    return render_template("tasking/meeting.html", **_meeting_page_context(meeting, forms)), status


def _viewable_meeting(meeting_id):
    meeting = get_allowed(TaskingMeeting, meeting_id, policy.can_view_meeting)
    # The page and its CSV show each decision's task, owner, lead and who decided: load them at once.
    task = selectinload(AgendaItem.resulting_task)
    db.session.execute(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id).options(
        task.selectinload(Task.owner), task.selectinload(Task.lead_organisation),
        selectinload(AgendaItem.decided_by))).scalars().all()
    return meeting


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
    # A refused decision shows the meeting again, with the message on this item's form.
    page = _meeting_page_context(item.meeting, {item_id: form})
    if form_page("tasking/meeting.html", form, **page).validate_on_submit():
        fields = None
        if form.decision.data == "create_task":
            fields = dict(title=form.title.data or "", problem=item.summary,
                          locality_id=item.concern.locality_id if item.concern else item.meeting.area_id,
                          lead_organisation_id=_int(form.lead_organisation.data), owner_id=_int(form.owner.data),
                          due_on=form.due_on.data)
        meeting_services.decide(item, by=current_user, decision=form.decision.data, note=form.note.data or "",
                                link_task_id=_int(form.link_task.data), task_fields=fields)
        db.session.commit()
        flash(f"Decision recorded for item {item.position + 1}.", "success")
        return redirect(url_for("tasking.meeting", meeting_id=meeting_id, _anchor=f"item-{item.id}"))
    return render_template("tasking/meeting.html", **page), 400


@bp.route("/tasking/meetings/<int:meeting_id>/close", methods=["POST"])
@allow(OFFICER, ADMIN)
def close_meeting(meeting_id):
    meeting = db.get_or_404(TaskingMeeting, meeting_id)
    require(policy.can_chair(current_user, meeting.area_id))
    form = CorrectionForm()  # for its CSRF token
    if not form.csrf_token.validate(form):
        return _meeting_page(meeting, status=400)
    try:
        meeting_services.close_meeting(meeting, by=current_user)
        db.session.commit()
    except PortalError as error:  # already closed: not a form error, a note on the page it redirects to
        db.session.rollback()
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
        meeting_services.add_correction(meeting, by=current_user, text=form.text.data)
        db.session.commit()
        flash("Correction added to the record.", "success")
        return redirect(url_for("tasking.meeting", meeting_id=meeting_id))
    return _meeting_page(meeting, status=400)


@bp.route("/tasking/meetings/<int:meeting_id>/record.csv")
@allow(OFFICER, ADMIN, ANALYST)
def meeting_csv(meeting_id):
    meeting = _viewable_meeting(meeting_id)
    buffer = io.StringIO()
    spreadsheets.Writer(buffer).writerows(meeting_services.meeting_record_rows(meeting))
    name = f"tasking-{meeting.area.key}-{meeting.held_on:%Y-%m-%d}.csv"
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
