import io
from datetime import date

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import spreadsheets
from ..access import ADMIN, ANALYST, OFFICER, PARTNER, SIGNED_IN, allow, get_allowed, require
from ..concerns.forms import WithdrawForm
from ..concerns.models import Concern
from ..errors import ConflictError, NotAllowed, PortalError
from ..extensions import db
from ..forms import commit_or_conflict, form_page, page_number, parse_id, render_form, show_error
from ..forms import int_or_none as _int
from ..partners.services import all_organisations
from ..people.models import User
from ..places import services as places
from ..plan.services import action_choices
from . import attachments, coverage, policy, task_list
from . import corrections as task_corrections
from . import meetings as meeting_services
from . import task_details as detail_services
from . import tasks as task_services
from .forms import (
    CompactDecisionForm,
    CorrectionForm,
    DecisionForm,
    MeetingForm,
    TaskDetailsForm,
    TaskFilterForm,
    TaskForm,
    TaskUpdateForm,
    WithdrawFileForm,
    review_form_for,
)
from .models import AGENDA_KINDS, COMPLETED, AgendaItem, MeetingCorrection, Task, TaskingMeeting
from .task_log import describe

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


# ---- tasking meetings -----------------------------------------------------------------------------

@bp.route("/tasking/meetings/")
@allow(OFFICER, ADMIN, ANALYST)
def meetings():
    items = (select(func.count()).select_from(AgendaItem).where(AgendaItem.meeting_id == TaskingMeeting.id)
             .scalar_subquery())
    query = (select(TaskingMeeting, items).options(selectinload(TaskingMeeting.area))
             .order_by(TaskingMeeting.held_on.desc(), TaskingMeeting.id.desc()))
    if current_user.is_officer:
        query = query.where(TaskingMeeting.area_id.in_(current_user.area_ids or {-1}))
    return render_template("tasking/meetings.html", meetings=db.session.execute(query).all())


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
        count = db.session.execute(select(func.count()).select_from(AgendaItem)
                                   .where(AgendaItem.meeting_id == meeting.id)).scalar_one()
        flash(f"Agenda built: {count} items.", "success")
        return redirect(url_for("tasking.meeting", meeting_id=meeting.id))
    return render_form("tasking/meeting_form.html", form)


def _viewable_meeting(meeting_id):
    return get_allowed(TaskingMeeting, meeting_id, policy.can_view_meeting)


def _meeting_page_context(meeting, page, forms=None, correction=None):
    """The meeting page: one page of the agenda, each undecided item with its compact decision form (which
    lists no tasks, partners or people, so the page costs what it shows). ``forms`` are submitted ones."""
    meeting = db.session.execute(select(TaskingMeeting).where(TaskingMeeting.id == meeting.id).options(
        selectinload(TaskingMeeting.attendees), selectinload(TaskingMeeting.chair),
        selectinload(TaskingMeeting.corrections).selectinload(MeetingCorrection.by))
        .execution_options(populate_existing=True)).scalar_one()
    items = meeting_services.agenda_page(meeting, page)
    can_chair = policy.can_chair(current_user, meeting.area_id)
    forms = dict(forms or {})
    if can_chair and not meeting.is_closed:
        for item in items.items:
            if not item.decision and item.id not in forms:
                forms[item.id] = CompactDecisionForm(formdata=None, item_id=item.id)
    return dict(meeting=meeting, items=items, groups=meeting_services.agenda_groups(meeting), forms=forms,
                correction=correction or CorrectionForm(formdata=None), can_chair=can_chair, kinds=AGENDA_KINDS,
                page_url=lambda n: url_for("tasking.meeting", meeting_id=meeting.id, page=n))


def _meeting_page(meeting, page=1, forms=None, status=200, correction=None):
    return render_template("tasking/meeting.html", **_meeting_page_context(meeting, page, forms, correction)), status


@bp.route("/tasking/meetings/<int:meeting_id>")
@allow(OFFICER, ADMIN, ANALYST)
def meeting(meeting_id):
    return _meeting_page(_viewable_meeting(meeting_id), page_number())


def _full_decision_form(item, form):
    """The choices the item page's form offers (partners and people, never the area's tasks)."""
    organisations = all_organisations(active_only=True)
    form.lead_organisation.choices = [("", "Choose the lead partner")] + [(str(o.id), o.name) for o in organisations]
    form.supporting.choices = [(o.id, o.name) for o in organisations]
    form.owner.choices = owner_choices()
    form.action.choices = action_choices()
    return form


def _item_page_context(item):
    """The item's own decision page (its form comes separately): the task picker searches the area's active
    tasks by number or title (``?q=``); ``?task=`` fills in the chosen one."""
    query = (request.args.get("q") or "").strip()[:100]
    matches, more = meeting_services.find_tasks(item.meeting.area_id, query)
    return dict(item=item, meeting=item.meeting, query=query, matches=matches, more=more,
                page=meeting_services.page_of(item), describe_task=_task_choice,
                can_decide=policy.can_chair(current_user, item.meeting.area_id) and not item.meeting.is_closed
                and not item.decision)


def _task_choice(task):
    return f"{task.title} ({task.lead_organisation.name}, due {task.due_on:%d %b %Y}, {task.status_label.lower()})"


def _task_fields(item, form):
    """create_task's arguments from the decision form: the task takes the item's place and summary."""
    return dict(title=form.title.data or "", problem=item.summary,
                locality_id=item.concern.locality_id if item.concern else item.meeting.area_id,
                lead_organisation_id=_int(form.lead_organisation.data), supporting_ids=form.supporting.data or [],
                owner_id=_int(form.owner.data), due_on=form.due_on.data, priority=form.priority.data or "medium",
                action_id=_int(form.action.data) or 0)  # 0 (not an id) is refused like any unknown action


@bp.route("/tasking/meetings/<int:meeting_id>/items/<int:item_id>", methods=["GET", "POST"])
@allow(OFFICER, ADMIN)
def decide(meeting_id, item_id):
    """GET: the item's own decision page. POST: record a decision, from that page or from the item's compact
    form on the meeting page; a refusal is shown again on the page it came from, on that item's form."""
    item = db.get_or_404(AgendaItem, item_id)
    if item.meeting_id != meeting_id:
        return redirect(url_for("tasking.meeting", meeting_id=meeting_id))
    require(policy.can_chair(current_user, item.meeting.area_id))
    form = _full_decision_form(item, DecisionForm(item_id=item.id))
    if request.method == "GET":
        form.on_item_page.data = "1"
        chosen = parse_id(request.args.get("task"))
        if chosen is not None:
            form.decision.data, form.link_task.data = "link_task", str(chosen)
        return render_template("tasking/meeting_item.html", form=form, **_item_page_context(item))
    from_item_page = form.on_item_page.data == "1"
    if not from_item_page and form.decision.data == "create_task" and not form.title.data:
        # The compact form has no task fields: the item's page asks for them, keeping what was chosen.
        form.on_item_page.data = "1"
        return render_template("tasking/meeting_item.html", form=form, **_item_page_context(item))
    if from_item_page:
        template, page = "tasking/meeting_item.html", _item_page_context(item)
    else:
        template = "tasking/meeting.html"
        page = _meeting_page_context(item.meeting, meeting_services.page_of(item), {item.id: form})
    form_page(template, form, **page)
    if form.validate_on_submit():
        meeting_services.decide(item, by=current_user, decision=form.decision.data, note=form.note.data or "",
                                link_task_id=_int(form.link_task.data),
                                task_fields=_task_fields(item, form) if form.decision.data == "create_task" else None)
        db.session.commit()
        flash(f"Decision recorded for item {item.position + 1}.", "success")
        return redirect(url_for("tasking.meeting", meeting_id=meeting_id, page=meeting_services.page_of(item),
                                _anchor=f"item-{item.id}"))
    return render_template(template, form=form, **page), 400


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
    return _meeting_page(meeting, status=400, correction=form)


@bp.route("/tasking/meetings/<int:meeting_id>/record.csv")
@allow(OFFICER, ADMIN, ANALYST)
def meeting_csv(meeting_id):
    meeting = _viewable_meeting(meeting_id)
    # The record shows each decision's task, owner and who decided: load them at once.
    task = selectinload(AgendaItem.resulting_task)
    db.session.execute(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id).options(
        task.selectinload(Task.owner), selectinload(AgendaItem.decided_by))).scalars().all()
    buffer = io.StringIO()
    spreadsheets.Writer(buffer).writerows(meeting_services.meeting_record_rows(meeting))
    name = f"tasking-{meeting.area.key}-{meeting.held_on:%Y-%m-%d}.csv"
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
