import io
from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import spreadsheets
from ..access import ADMIN, ANALYST, OFFICER, PARTNER, SIGNED_IN, allow, get_allowed, require
from ..concerns.forms import WithdrawForm
from ..concerns.models import Concern
from ..errors import ConflictError, PortalError
from ..extensions import db
from ..forms import commit_or_conflict, form_page, parse_id, render_form
from ..forms import int_or_none as _int
from ..partners.services import all_organisations
from ..people.models import User
from ..places import services as places
from . import corrections as task_corrections
from . import meetings as meeting_services
from . import policy
from . import tasks as task_services
from .forms import CorrectionForm, DecisionForm, MeetingForm, ReviewForm, TaskForm, TaskUpdateForm
from .models import ACTIVE_STATUSES, AgendaItem, Task, TaskingMeeting

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
    return render_template("tasking/my_tasks.html", groups=task_services.grouped_for(current_user), heading=heading,
                           today=date.today())


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
            priority=form.priority.data, concern_ids=concern_ids)
        db.session.commit()
        flash(f"Task raised and assigned to {task.owner.display_name}.", "success")
        return redirect(url_for("tasking.task", task_id=task.id))
    return render_form("tasking/task_form.html", form)


def _visible(task_id):
    return get_allowed(Task, task_id, policy.can_view)


def _task_page_context(task, update_form=None, review_form=None):
    return dict(task=task, form=update_form or TaskUpdateForm(
                    version=task.version_id, stage=task.stage, status=task.status, victim=task.victim,
                    offender=task.offender, location=task.location, assessment=task.assessment, we_did=task.we_did),
                review_form=review_form or ReviewForm(version=task.version_id),
                can_update=policy.can_update(current_user, task), can_review=policy.can_review(current_user, task),
                describe=task_services.describe, today=date.today())


def _task_page(task, update_form=None, review_form=None, status=200):
    return render_template("tasking/task.html", **_task_page_context(task, update_form, review_form)), status


def _declare_task_page(task, form):
    """The task's page is where a refused update is shown again; after a conflict the form keeps what was
    typed but carries the latest version, so the user can apply it again."""
    context = _task_page_context(task, update_form=form)
    del context["form"]

    def latest_version(error):
        if isinstance(error, ConflictError):
            form.version.data = context["review_form"].version.data = db.session.get(Task, task.id).version_id

    return form_page("tasking/task.html", form, **context, on_refused=latest_version)



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
        commit_or_conflict(SAVED_MEANWHILE, lambda: task_services.update_task(
            task, by=current_user, version=form.version.data or 0, text=form.text.data or "",
            link=form.link.data or "", stage=form.stage.data, status=form.status.data,
            blocked_reason=form.blocked_reason.data or "", victim=form.victim.data, offender=form.offender.data,
            location=form.location.data, assessment=form.assessment.data, we_did=form.we_did.data))
        flash("Update saved.", "success")
        return redirect(url_for("tasking.task", task_id=task_id))
    return _task_page(task, update_form=form, status=400)


@bp.route("/tasks/<int:task_id>/review", methods=["POST"])
@allow(OFFICER, ADMIN)
def review(task_id):
    task = _visible(task_id)
    require(policy.can_review(current_user, task))
    form = ReviewForm()
    # The review form is the page's second form (the error handler re-renders a page's main ``form``),
    # so this view shows its refusal itself, after rolling the unit of work back.
    if form.validate_on_submit():
        try:
            task_services.review_and_publish(task, by=current_user, version=form.version.data or 0)
            db.session.commit()
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
