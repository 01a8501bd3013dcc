"""Staff views of concerns: the register and its bulk actions, PACT meetings, a concern's page, its status and
its corrections. Table 1, the survey and the categories are in category_views.py."""
from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import spreadsheets
from ..access import ADMIN, OFFICER, SIGNED_IN, allow, get_allowed, require
from ..errors import ConflictError, NotAllowed, PortalError
from ..extensions import db
from ..forms import commit_or_conflict, form_page, page_number, render_form, show_error
from ..forms import int_or_none as _int
from ..paging import position_args
from ..partners.services import all_organisations
from ..places import services as places
from . import bulk, corrections, policy, services
from .blueprint import STAFF, bp
from .forms import (
    MAX_CONCERN_ROWS,
    TOO_MANY_ROWS,
    BulkStatusForm,
    ConcernForm,
    EditConcernForm,
    PactMeetingForm,
    PublishForm,
    PublishReviewedForm,
    RedactForm,
    RegisterFilterForm,
    StatusForm,
    WithdrawForm,
    concern_rows_sent,
    repeat_of,
)
from .models import (
    OPEN_STATUSES,
    REDACTABLE_FIELDS,
    STATUS_LABELS,
    TRANSITIONS,
    Concern,
    ConcernCategory,
    PactMeeting,
)

PER_PAGE = 25


# ---- choices shared by the forms ---------------------------------------------------------------

def category_choices(blank="Choose a category"):
    rows = db.session.execute(select(ConcernCategory).where(ConcernCategory.retired.is_(False))
                              .order_by(ConcernCategory.group, ConcernCategory.name)).scalars()
    return [("", blank)] + [(str(c.id), c.name) for c in rows]


def locality_choices(blank="Choose a place"):
    areas = None if current_user.is_admin else current_user.area_ids
    return [("", blank)] + [(str(i), label) for i, label in places.choices_below_area(areas)]


# ---- the register ------------------------------------------------------------------------------

def _filters(form):
    """The register's filters from a validated filter form; a field with an error filters nothing."""
    for field in form:
        if field.errors:
            field.data = field.default
    mine = request.args.get("mine") == "1" and current_user.is_officer
    status = form.status.data or ("open" if mine else "")
    return services.RegisterFilters(
        area_ids=tuple(current_user.area_ids) if mine and not form.area.data else
        ((_int(form.area.data),) if form.area.data else ()),
        locality_id=_int(form.locality.data), category_id=_int(form.category.data),
        statuses=OPEN_STATUSES if status == "open" else ((status,) if status else ()),
        source=form.source.data or None, priority_only=bool(form.priority.data),
        we_did_published=bool(form.answered.data),
        date_from=form.date_from.data, date_to=form.date_to.data, sort=form.sort.data or "newest")


def _filter_form():
    form = RegisterFilterForm(request.args)
    form.area.choices = [("", "All areas")] + [(str(a.id), a.name) for a in places.areas()]
    form.locality.choices = [("", "Anywhere")] + [(str(i), label) for i, label in places.choices_below_area()]
    form.category.choices = category_choices("Any category")
    form.validate()
    return form


def register_filters_from_request():
    """(the register's filter form, its RegisterFilters) from the query string: the register, its CSV and
    the dashboard's concern export read the same filters."""
    form = _filter_form()
    return form, _filters(form)


@bp.route("/")
@allow(*STAFF)
def register():
    return _register_page()


def _register_page(bulk_form=None, status=200):
    """The register for the request's filters and page; with the select-and-act form for those who may
    change concerns (``bulk_form`` when it comes back refused)."""
    places.hold_localities()  # the filters' places and each row's locality and area, without a query each
    form = _filter_form()
    filters = _filters(form)
    page, counts = services.register_page(filters, page_number(), PER_PAGE, after=request.args.get("after"),
                                          before=request.args.get("before"), tail=request.args.get("tail"))
    args = position_args(request.args)
    acts = current_user.is_officer or current_user.is_admin
    return render_template("concerns/register.html", form=form, page=page, args=args, counts=counts,
                           mine=request.args.get("mine") == "1" and current_user.is_officer,
                           page_url=lambda n: url_for("concerns.register", **page.link_args(n), **args),
                           bulk_form=(bulk_form or BulkStatusForm()) if acts else None, bulk_args=_register_args(),
                           may_change=lambda concern: policy.can_change(current_user, concern)), (
        400 if form.errors else status)


@bp.route("/bulk", methods=["POST"])
@allow(OFFICER, ADMIN)
def bulk_status():
    """Select-and-act on the register: the ticked concerns accepted for tasking, or closed as no further
    action with one reason; all or nothing. Back to the same filters and page."""
    form = BulkStatusForm()
    # The register's filter form is the page's ``form``, so this view shows a refusal itself, after
    # rolling the unit of work back (as the task review does).
    if form.validate_on_submit():
        try:
            changed = commit_or_conflict(BULK_SAVED_MEANWHILE, lambda: bulk.change_statuses(
                form.concerns.ids, form.action.data, by=current_user, reason=form.reason.data or ""))
        except PortalError as error:
            db.session.rollback()
            show_error(form, error)
            return _register_page(form, 403 if isinstance(error, NotAllowed) else
                                  409 if isinstance(error, ConflictError) else 400)
        flash(bulk.outcome(form.action.data, len(changed)), "success")
        return redirect(url_for("concerns.register", **_register_args()))
    return _register_page(form, 400)


def _register_args():
    """The register's filters and page from the query string, to come back to after a bulk action (never
    url_for's own "_external", "_scheme"... options)."""
    return {k: v for k, v in request.args.items() if not k.startswith("_")}


BULK_SAVED_MEANWHILE = ("Someone else saved one of these concerns at the same moment, so nothing was changed. "
                        "Check their latest status below, then try again.")


@bp.route("/export.csv")
@allow(*STAFF)
def export():
    form = _filter_form()
    if form.errors:
        abort(400, description="; ".join(f"{form[name].label.text}: {' '.join(messages)}"
                                         for name, messages in form.errors.items()))
    query = services.register_query(_filters(form))
    rows = spreadsheets.streamed(services.CSV_COLUMNS, services.register_rows(query))
    name = f"concerns-{date.today():%Y-%m-%d}.csv"
    return Response(stream_with_context(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ---- PACT meetings ------------------------------------------------------------------------------

def _concern_rows(form):
    for row in form.concerns:
        row.form.category.choices = category_choices()
        row.form.locality.choices = [("", "Same as the meeting")] + locality_choices()[1:]


def _items(form):
    items = []
    for index, row in enumerate(form.concerns):
        entry = row.form
        if entry.is_blank():
            continue
        items.append(services.ConcernInput(
            category_id=_int(entry.category.data), you_said=entry.you_said.data or "",
            locality_id=_int(entry.locality.data) or _int(form.locality.data),
            internal_notes=entry.internal_notes.data or "", street=entry.street.data or "",
            lat=entry.lat.data, lon=entry.lon.data, raised_count=entry.raised_count.data or 1,
            is_priority=entry.is_priority.data,
            repeat_of_id=repeat_of(entry.repeat.data), row=index))
    return items


def _offer_link(field, original):
    """Put the "is this the same problem?" question on a repeat field; True while it is unanswered."""
    field.choices = [(f"link:{original.id}", f"Yes, add it to the open concern (raised {original.raised_count} "
                                             f"time{'s' if original.raised_count != 1 else ''} so far)"),
                     ("new", "No, record it as a new concern")]
    field.original = original
    if field.data in (f"link:{original.id}", "new"):
        return False
    field.errors = list(field.errors) + [
        f"{original.locality.name} already has an open concern about "
        f"{original.category.name.lower()}: choose whether to add this one to it"]
    return True


def _ask_about_repeats(form, items):
    """Ask about each row that repeats an open concern. Returns True when a row still needs the answer."""
    candidates = services.open_repeat_candidates((i.locality_id, i.category_id) for i in items)
    waiting = False
    for item in items:
        original = candidates.get((item.locality_id, item.category_id))
        if original is not None:
            waiting |= _offer_link(form.concerns[item.row].form.repeat, original)
    return waiting


@bp.route("/meetings/new", methods=["GET", "POST"])
@allow(OFFICER, ADMIN)
def new_meeting():
    form = PactMeetingForm()
    form.locality.choices = locality_choices("Choose the neighbourhood or ward")
    form.partners.choices = [(o.id, o.name) for o in all_organisations(active_only=True)]
    if request.method == "POST" and "add_row" in request.form:
        if len(form.concerns.entries) < MAX_CONCERN_ROWS and concern_rows_sent() <= MAX_CONCERN_ROWS:
            form.concerns.append_entry()
            status = 200
        else:
            form.concerns.errors = [TOO_MANY_ROWS]
            status = 400
        _concern_rows(form)
        return render_template("concerns/meeting_form.html", form=form), status
    _concern_rows(form)
    if form_page("concerns/meeting_form.html", form).validate_on_submit():
        items = _items(form)
        if not _ask_about_repeats(form, items):
            meeting = services.record_pact_meeting(
                by=current_user, locality_id=int(form.locality.data), held_on=form.held_on.data,
                venue=form.venue.data or "", attendance=form.attendance.data or 0,
                partner_ids=form.partners.data or [], notes=form.notes.data or "", items=items,
                next_meeting_on=form.next_meeting_on.data, next_meeting_venue=form.next_meeting_venue.data)
            db.session.commit()
            flash(f"Saved the PACT meeting in {meeting.locality.name} with "
                  f"{len(items)} concern{'s' if len(items) != 1 else ''}.", "success")
            return redirect(url_for("concerns.meeting", meeting_id=meeting.id))
    status = 400 if request.method == "POST" else 200
    return render_template("concerns/meeting_form.html", form=form), status


def _meeting_context(meeting):
    reviewed = bulk.reviewed_of_meeting(meeting)
    return dict(meeting=meeting, reviewed=reviewed,
                can_publish=bool(reviewed) and all(policy.can_change(current_user, c) for c in reviewed))


@bp.route("/meetings/<int:meeting_id>")
@allow(*STAFF)
def meeting(meeting_id):
    meeting = db.get_or_404(PactMeeting, meeting_id)
    return render_template("concerns/meeting.html", form=PublishReviewedForm(), **_meeting_context(meeting))


@bp.route("/meetings/<int:meeting_id>/publish-reviewed", methods=["POST"])
@allow(OFFICER, ADMIN)
def publish_reviewed(meeting_id):
    """Publish every reviewed concern of the meeting that the page listed; all or nothing."""
    meeting = db.get_or_404(PactMeeting, meeting_id)
    require(policy.may_log_in(current_user, meeting.locality))  # an officer of the meeting's area, or an admin
    form = PublishReviewedForm()
    if form_page("concerns/meeting.html", form, **_meeting_context(meeting)).validate_on_submit():
        published = commit_or_conflict(BULK_SAVED_MEANWHILE, lambda: bulk.publish_reviewed(
            meeting, by=current_user, concern_ids=form.concerns.ids))
        flash(f"Published {len(published)} concern{'s' if len(published) != 1 else ''}: residents can now see "
              "their 'You said, we did'.", "success")
        return redirect(url_for("concerns.meeting", meeting_id=meeting.id))
    return render_template("concerns/meeting.html", form=form, **_meeting_context(meeting)), 400


# ---- single concerns -----------------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@allow(OFFICER, ADMIN)
def new_concern():
    form = ConcernForm()
    form.category.choices = category_choices()
    form.locality.choices = locality_choices()
    if form_page("concerns/concern_form.html", form).validate_on_submit():
        item = services.ConcernInput(
            category_id=int(form.category.data), you_said=form.you_said.data, locality_id=int(form.locality.data),
            internal_notes=form.internal_notes.data or "", street=form.street.data or "",
            raised_count=form.raised_count.data or 1,
            repeat_of_id=repeat_of(form.repeat.data))
        original = services.open_repeat_candidates([(item.locality_id, item.category_id)]).get(
            (item.locality_id, item.category_id))
        if original is not None and _offer_link(form.repeat, original):
            pass  # the form is shown again with the question
        else:
            concern = services.log_concern(item, by=current_user, source=form.source.data,
                                           raised_on=form.raised_on.data)
            db.session.commit()
            flash("Saved the concern." if concern.id and not item.repeat_of_id
                  else "Added to the open concern.", "success")
            return redirect(url_for("concerns.show", concern_id=concern.id))
    return render_form("concerns/concern_form.html", form)


def _viewable(concern_id):
    return get_allowed(Concern, concern_id, policy.can_view)


def _status_form(concern, form=None):
    form = form or StatusForm(version=concern.version_id)
    form.status.choices = [("", "Choose")] + [(s, STATUS_LABELS[s]) for s in STATUS_LABELS
                                               if s in TRANSITIONS.get(concern.status, ())]
    return form


@bp.route("/<int:concern_id>")
@allow(SIGNED_IN)
def show(concern_id):
    concern = _viewable(concern_id)
    return render_template("concerns/show.html", concern=concern, status_form=_status_form(concern),
                           publish_form=PublishForm(version=concern.version_id),
                           can_change=policy.can_change(current_user, concern),
                           show_notes=policy.can_see_internal_notes(current_user, concern))


SAVED_MEANWHILE = ("Someone else saved this concern at the same moment, so your change was not saved. "
                   "Check its latest status and history below, then try again.")


def _stale(concern, form):
    if str(concern.version_id) != (form.version.data or ""):
        form.form_errors.append("Someone else changed this concern while you were reading it. "
                                "Check its latest status and history below, then try again.")
        return True
    return False



@bp.route("/<int:concern_id>/status", methods=["POST"])
@allow(OFFICER, ADMIN)
def change_status(concern_id):
    concern = _viewable(concern_id)
    require(policy.can_change(current_user, concern))
    form = _status_form(concern, StatusForm())
    publish_form = PublishForm(version=concern.version_id)
    page = dict(concern=concern, status_form=form, publish_form=publish_form, can_change=True, show_notes=True)
    if form_page("concerns/show.html", form, **page).validate_on_submit() and not _stale(concern, form):
        commit_or_conflict(SAVED_MEANWHILE, lambda: services.change_status(
            concern, form.status.data, by=current_user, reason=form.reason.data or "", we_did=form.we_did.data,
            responded_on=form.responded_on.data, public_reason=form.public_reason.data or ""))
        flash(f"The concern is now '{concern.status_label}'.", "success")
        return redirect(url_for("concerns.show", concern_id=concern.id))
    return render_template("concerns/show.html", **page), 400


@bp.route("/<int:concern_id>/publish", methods=["POST"])
@allow(OFFICER, ADMIN)
def publish(concern_id):
    concern = _viewable(concern_id)
    require(policy.can_change(current_user, concern))
    form = PublishForm()
    page = dict(concern=concern, status_form=_status_form(concern), publish_form=form, can_change=True,
                show_notes=True)
    if form_page("concerns/show.html", form, **page).validate_on_submit() and not _stale(concern, form):
        commit_or_conflict(SAVED_MEANWHILE, lambda: services.publish(concern, by=current_user))
        flash("Published: residents can now see this 'You said, we did'.", "success")
        return redirect(url_for("concerns.show", concern_id=concern.id))
    return render_template("concerns/show.html", **page), 400


# ---- corrections: edit, withdraw from public, redact (corrections.py) ------------------------------

def _changeable(concern_id):
    """The concern, 403 unless the user may change it (the service checks again)."""
    concern = _viewable(concern_id)
    require(policy.can_change(current_user, concern))
    return concern


def _edit_form(concern):
    if request.method == "POST":
        form = EditConcernForm()
    else:
        form = EditConcernForm(version=concern.version_id, category=str(concern.category_id),
                               locality=str(concern.locality_id), street=concern.street, lat=concern.lat,
                               lon=concern.lon, you_said=concern.you_said, internal_notes=concern.internal_notes,
                               raised_count=concern.raised_count, public_reason=concern.public_reason)
    form.category.choices = category_choices()
    if not any(value == str(concern.category_id) for value, _ in form.category.choices):
        form.category.choices.append((str(concern.category_id), concern.category.name))  # retired since
    form.locality.choices = locality_choices()
    if not any(value == str(concern.locality_id) for value, _ in form.locality.choices):
        form.locality.choices.append((str(concern.locality_id), concern.locality.name))
    return form


@bp.route("/<int:concern_id>/edit", methods=["GET", "POST"])
@allow(OFFICER, ADMIN)
def edit(concern_id):
    concern = _changeable(concern_id)
    form = _edit_form(concern)
    if form_page("concerns/edit.html", form, concern=concern).validate_on_submit() and not _stale(concern, form):
        edit = corrections.ConcernEdit(
            category_id=_int(form.category.data), locality_id=_int(form.locality.data), you_said=form.you_said.data,
            street=form.street.data or "", lat=form.lat.data, lon=form.lon.data,
            internal_notes=form.internal_notes.data or "", raised_count=form.raised_count.data,
            public_reason=(form.public_reason.data or "") if concern.needs_public_reason else None)
        changed = commit_or_conflict(SAVED_MEANWHILE, lambda: corrections.edit_concern(concern, edit, by=current_user))
        flash(f"Saved {len(changed)} correction{'s' if len(changed) != 1 else ''}: the history shows each one.",
              "success")
        return redirect(url_for("concerns.show", concern_id=concern.id))
    return render_form("concerns/edit.html", form, concern=concern)


@bp.route("/<int:concern_id>/withdraw", methods=["GET", "POST"])
@allow(OFFICER, ADMIN)
def withdraw(concern_id):
    concern = _changeable(concern_id)
    form = WithdrawForm(version=concern.version_id) if request.method == "GET" else WithdrawForm()
    page = dict(concern=concern, action=url_for("concerns.withdraw", concern_id=concern.id),
                concerns=[concern], back=url_for("concerns.show", concern_id=concern.id))
    if form_page("concerns/withdraw.html", form, **page).validate_on_submit() and not _stale(concern, form):
        commit_or_conflict(SAVED_MEANWHILE, lambda: corrections.withdraw(concern, by=current_user,
                                                                         reason=form.reason.data))
        flash("Withdrawn: it leaves every public page and open data feed within "
              f"{public_cache_seconds()}. You can publish it again later.", "success")
        return redirect(url_for("concerns.show", concern_id=concern.id))
    return render_form("concerns/withdraw.html", form, **page)


def public_cache_seconds():
    """How long residents' pages may still show the old version, in words."""
    from flask import current_app

    seconds = max(1, round(current_app.config.get("PUBLIC_CACHE_SECONDS", 5)))
    return f"{seconds} second{'s' if seconds != 1 else ''}"


@bp.route("/<int:concern_id>/redact", methods=["GET", "POST"])
@allow(OFFICER, ADMIN)
def redact(concern_id):
    concern = _changeable(concern_id)
    form = RedactForm(version=concern.version_id) if request.method == "GET" else RedactForm()
    form.field.choices = [(name, label) for name, label in REDACTABLE_FIELDS.items() if getattr(concern, name)]
    if form_page("concerns/redact.html", form, concern=concern).validate_on_submit() and not _stale(concern, form):
        commit_or_conflict(SAVED_MEANWHILE, lambda: corrections.redact(concern, by=current_user,
                                                                       field=form.field.data, text=form.text.data))
        flash(f"Redacted: the words are replaced with [removed] here, in the history and in every copy, and on "
              f"public pages within {public_cache_seconds()}.", "success")
        return redirect(url_for("concerns.show", concern_id=concern.id))
    return render_form("concerns/redact.html", form, concern=concern)


# Table 1, the Community Survey and the list of categories: their routes are on this blueprint too.
from . import category_views  # noqa: E402,F401
