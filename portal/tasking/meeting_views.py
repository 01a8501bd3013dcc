"""Bronze tasking meetings: the list, a new meeting, its agenda page by page, each item's decision,
closing it, corrections after it closed, and its record as CSV."""
import io

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import spreadsheets
from ..access import ADMIN, ANALYST, OFFICER, allow, get_allowed, require
from ..errors import PortalError
from ..extensions import db
from ..forms import form_page, page_number, parse_id, render_form
from ..forms import int_or_none as _int
from ..partners.services import all_organisations
from ..places import services as places
from ..plan.services import action_choices
from . import meetings as meeting_services
from . import policy
from .blueprint import bp
from .choices import owner_choices
from .forms import (
    CompactDecisionForm,
    CorrectionForm,
    DecisionForm,
    MeetingForm,
)
from .models import AGENDA_KINDS, AgendaItem, MeetingCorrection, Task, TaskingMeeting

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
