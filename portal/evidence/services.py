"""Before and after, per task: recorded crime of the types a task addresses, in its place, for the N months
before its response began and the N months after, beside the rest of its area, and the difference of the
two changes (a simple difference-in-differences). Also the residents' PACT concerns of its categories.

The month the response began is in neither window: it is partly before and partly after. N is the task's
choice (default 3), cut to the months of police data published since; the months before are as many.
A month nobody imported is named, never counted as a zero; changes are then month for month.
"""
from dataclasses import dataclass, field
from datetime import date
from typing import Optional

from sqlalchemy import func, select

from ..concerns.models import CategoryCrimeType, Concern, ConcernCategory
from ..crime.categories import ASB, LABELS
from ..crime.stats import add_months, change_pct, latest_month, months_with_data
from ..errors import NotAllowed, PortalError
from ..extensions import db
from ..models import utcnow
from ..places.models import Locality
from ..places.services import hold_localities
from ..tasking.models import ASSESSMENT, RESPONSE, STAGES, Task, TaskUpdate, task_concerns
from ..tasking.policy import can_update
from ..tasking.tasks import log
from . import figures
from .figures import HERE, REST
from .models import DEFAULT_MONTHS, MAX_MONTHS, TaskEvidence

# The crime types a task may count: police.uk's current 14 (their labels), ASB first.
CHOICES = [(ASB, LABELS[ASB])] + sorted(((slug, name) for slug, name in LABELS.items()
                                         if slug not in (ASB, "public-disorder-weapons")), key=lambda c: c[1])
# Residents never see a count under this, nor the figures of a place smaller than this (README).
MIN_PUBLIC_COUNT = 5
MIN_PUBLIC_POPULATION = 1000
NUMBER_WORDS = {1: "month", 2: "two months", 3: "three months", 4: "four months", 5: "five months",
                6: "six months", 7: "seven months", 8: "eight months", 9: "nine months", 10: "ten months",
                11: "eleven months", 12: "twelve months"}


@dataclass
class Side:
    """One place's recorded count in each window (over the months with data)."""
    before: int = 0
    after: int = 0
    change: Optional[float] = None  # % month for month; None when there was nothing before


@dataclass
class Evidence:
    task_id: int
    place: Locality
    comparison: str  # "the rest of the North area"
    crime_types: list  # slugs
    chosen: bool  # the task's own choice of types, not its categories' defaults
    unseen: list  # names of the task's concern categories police data cannot see
    months: int  # N as chosen
    state: str  # "ready" | "no_types" | "not_started" | "too_soon" | "no_data"
    response_month: Optional[date] = None
    n: int = 0  # months in each window, after the cut to the data present
    before_months: list = field(default_factory=list)
    after_months: list = field(default_factory=list)
    missing: list = field(default_factory=list)  # months of the windows without police data
    here: Side = field(default_factory=Side)
    rest: Side = field(default_factory=Side)
    did: Optional[float] = None  # percentage points: the change here minus the change in the rest
    monthly: list = field(default_factory=list)  # (month, here or None, rest or None, "before"/"after")
    concerns_before: Optional[int] = None  # None: the task has no concern category to look for
    concerns_after: Optional[int] = None
    latest: Optional[date] = None

    @property
    def ready(self):
        return self.state == "ready"

    @property
    def types_label(self):
        return type_names(self.crime_types)

    @property
    def missing_label(self):
        return ", ".join(f"{m:%B %Y}" for m in self.missing)

    @property
    def chart(self):
        """The chart's data (static/js/evidence-chart.js): a month without data is null, a gap."""
        return {"labels": [f"{m:%b %Y}" for m, *_ in self.monthly], "here": [h for _, h, _, _ in self.monthly],
                "rest": [r for _, _, r, _ in self.monthly], "here_label": self.place.name,
                "rest_label": self.comparison[0].upper() + self.comparison[1:]}


def type_names(kinds):
    """'anti-social behaviour and public order' from slugs, ASB first."""
    names = [LABELS.get(k, k) for k in sorted(kinds, key=lambda k: (k != ASB, k))]
    names = [n if n != "Anti-social behaviour" else "anti-social behaviour" for n in names]
    names = [n[0].lower() + n[1:] for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1] if names else ""


def _month(day):
    return date(day.year, day.month, 1)


# ---- what each task counts ------------------------------------------------------------------------

def _response_dates(task_ids):
    """{task id: date its response began}: its first move to Response in its log."""
    rows = db.session.execute(select(TaskUpdate.task_id, func.min(TaskUpdate.at)).where(
        TaskUpdate.task_id.in_(task_ids), TaskUpdate.to_stage == RESPONSE).group_by(TaskUpdate.task_id))
    return {task_id: at.date() if hasattr(at, "date") else at for task_id, at in rows}


def _categories(task_ids):
    """{task id: [category ids of its concerns]}."""
    result = {}
    for task_id, category_id in db.session.execute(
            select(task_concerns.c.task_id, Concern.category_id).join(Concern, Concern.id == task_concerns.c.concern_id)
            .where(task_concerns.c.task_id.in_(task_ids)).distinct()):
        result.setdefault(task_id, []).append(category_id)
    return result


def _defaults(category_ids):
    """{category id: [crime types]} of the seeded mapping (editable, see CategoryCrimeType)."""
    result = {}
    for category_id, kind in db.session.execute(select(CategoryCrimeType.category_id, CategoryCrimeType.crime_type)
                                                .where(CategoryCrimeType.category_id.in_(category_ids))):
        result.setdefault(category_id, []).append(kind)
    return result


def _places(tasks):
    """{task id: (place, compare place, comparison words)}: the task's locality (its area when it names none)
    and the area around it, or Shropshire around an area. The few hundred localities are read once."""
    by_id = {loc.id: loc for loc in hold_localities()}
    county = next(loc for loc in by_id.values() if loc.level == "county")
    result = {}
    for task in tasks:
        place, area = by_id.get(task.locality_id) or by_id[task.area_id], by_id[task.area_id]
        if place.level in ("area", "county"):
            result[task.id] = (place, county, "the rest of Shropshire")
        else:
            result[task.id] = (place, area, f"the rest of the {area.name} area")
    return result


# ---- the figures ----------------------------------------------------------------------------------

def evidence_for_tasks(tasks, months=None):
    """{task id: Evidence} for these tasks, in a handful of statements whatever their number. ``months``
    overrides each task's own N (1 to 12). Tasks not yet in Response get state "not_started"."""
    tasks = list(tasks)
    ids = [t.id for t in tasks]
    if not ids:
        return {}
    settings = {s.task_id: s for s in db.session.execute(
        select(TaskEvidence).where(TaskEvidence.task_id.in_(ids))).scalars()}
    started, categories = _response_dates(ids), _categories(ids)
    defaults = _defaults({c for cs in categories.values() for c in cs})
    names = dict(db.session.execute(select(ConcernCategory.id, ConcernCategory.name).where(
        ConcernCategory.id.in_({c for cs in categories.values() for c in cs} or {-1}))).all())
    places, latest = _places(tasks), latest_month()
    result, specs, kinds, windows = {}, {}, {}, {}
    for task in tasks:
        own = settings.get(task.id)
        cats = categories.get(task.id, [])
        chosen = own is not None and own.crime_types is not None
        types = sorted(own.crime_types if chosen else {k for c in cats for k in defaults.get(c, [])})
        n_wanted = max(1, min(MAX_MONTHS, months or (own.months if own else DEFAULT_MONTHS)))
        place, around, comparison = places[task.id]
        ev = Evidence(task.id, place, comparison, types, chosen, sorted(names[c] for c in cats if not defaults.get(c)),
                      n_wanted, "ready", latest=latest)
        result[task.id] = ev
        began = started.get(task.id) or (task.created_at.date() if STAGES.index(task.stage) >= 2 else None)
        if began is None:
            ev.state = "not_started"
            continue
        ev.response_month = _month(began)
        if latest is None:
            ev.state = "no_data"
            continue
        ev.n = min(n_wanted, (latest.year - ev.response_month.year) * 12 + latest.month - ev.response_month.month)
        if ev.n < 1:
            ev.state = "too_soon"
            continue
        ev.before_months = [add_months(ev.response_month, i) for i in range(-ev.n, 0)]
        ev.after_months = [add_months(ev.response_month, i) for i in range(1, ev.n + 1)]
        windows[task.id] = (ev.before_months[0], ev.after_months[-1])
        specs[task.id] = (place.id, around.id, *windows[task.id])
        kinds[task.id] = types
        if not types:
            ev.state = "no_types"
    if not windows:
        return result
    present = set(months_with_data(min(w[0] for w in windows.values()), max(w[1] for w in windows.values())))
    counts = figures.crime_by_month(specs, kinds)
    # Concerns by day: from the first month before, to the response month; from the month after it, to the end.
    days = {t: (w[0], result[t].response_month, add_months(result[t].response_month, 1), add_months(w[1], 1))
            for t, w in windows.items()}
    residents = figures.concerns_by_window(specs, categories, days)
    for task_id in windows:
        _fill(result[task_id], counts, present, residents, bool(categories.get(task_id)))
    return result


def _fill(ev, counts, present, residents, has_categories):
    """The windows' totals, the changes and the DiD, from the monthly counts."""
    if has_categories:
        ev.concerns_before = residents.get((ev.task_id, True), 0)
        ev.concerns_after = residents.get((ev.task_id, False), 0)
    if ev.state != "ready":
        return
    with_data = {"before": 0, "after": 0}
    for label, window in (("before", ev.before_months), ("after", ev.after_months)):
        for month in window:
            if month not in present:
                ev.missing.append(month)
                ev.monthly.append((month, None, None, label))
                continue
            with_data[label] += 1
            here, rest = counts.get((ev.task_id, month, HERE), 0), counts.get((ev.task_id, month, REST), 0)
            ev.monthly.append((month, here, rest, label))
            setattr(ev.here, label, getattr(ev.here, label) + here)
            setattr(ev.rest, label, getattr(ev.rest, label) + rest)
    if not with_data["before"] or not with_data["after"]:
        ev.state = "no_data"
        return
    for side in (ev.here, ev.rest):
        side.change = change_pct(side.after, side.before, with_data["after"], with_data["before"])
    if ev.here.change is not None and ev.rest.change is not None:
        ev.did = ev.here.change - ev.rest.change


def evidence_for(task, months=None):
    """The Evidence of one task (see evidence_for_tasks)."""
    return evidence_for_tasks([task], months=months)[task.id]


def shows_evidence(task):
    """Tasks in Response or later show their before and after."""
    return task.stage in (RESPONSE, ASSESSMENT)


# ---- in words --------------------------------------------------------------------------------------

def _moved(change):
    if change is None:
        return "had nothing to compare with"
    if abs(change) < 0.5:
        return "was unchanged"
    return f"{'fell' if change < 0 else 'rose'} by {abs(change):.0f}%"


def _period(months):
    return f"{months[0]:%b %Y}" if len(months) == 1 else f"{months[0]:%b %Y} to {months[-1]:%b %Y}"


def assessment_text(ev):
    """The figures as a first draft of the task's assessment (the Assessment stage pre-fills it)."""
    if not ev.ready:
        return ""
    here = (f"a change of {ev.here.change:+.0f}%" if ev.here.change is not None
            else "with nothing recorded before to compare with")
    text = (f"Recorded {ev.types_label} in {ev.place.name}: {ev.here.before} in the {NUMBER_WORDS[ev.n]} before "
            f"the response began ({_period(ev.before_months)}) and {ev.here.after} in the {NUMBER_WORDS[ev.n]} "
            f"after ({_period(ev.after_months)}), {here}. "
            f"In {ev.comparison} it went from {ev.rest.before} to {ev.rest.after} ({_moved(ev.rest.change)}).")
    if ev.did is not None:
        text += f" Difference in differences: {ev.did:+.0f} percentage points."
    if ev.missing:
        text += f" No police data for {ev.missing_label}."
    if ev.concerns_before is not None:
        text += f" PACT concerns of the same kind here: {ev.concerns_before} before, {ev.concerns_after} after."
    return text


def summary(ev):
    """One line for a list of tasks (the PMCG drill-down): the counts, both changes and the DiD."""
    if not ev.crime_types:
        return "Before and after: no recorded crime type counts for this task"
    if not ev.ready:
        return {"not_started": "Before and after: the response has not begun",
                "too_soon": "Before and after: no police data after the response yet",
                "no_data": "Before and after: no police data for a window"
                           + (f" (none for {ev.missing_label})" if ev.missing else "")}[ev.state]
    text = (f"Recorded {ev.types_label} in {ev.place.name}, {ev.n} month{'s' if ev.n != 1 else ''} before and "
            f"after: {ev.here.before} → {ev.here.after}"
            f"{f' ({ev.here.change:+.0f}%)' if ev.here.change is not None else ''}; {ev.comparison} "
            f"{f'{ev.rest.change:+.0f}%' if ev.rest.change is not None else 'no change to compare'}")
    if ev.did is not None:
        text += f"; difference in differences {ev.did:+.0f} points"
    if ev.missing:
        text += f"; no police data for {ev.missing_label}"
    return text


def summaries(tasks):
    """{task id: summary} of the tasks in Response or later, in a handful of statements."""
    shown = [t for t in tasks if shows_evidence(t)]
    return {task_id: summary(ev) for task_id, ev in evidence_for_tasks(shown).items()} if shown else {}


def public_line(ev):
    """The plain-language line residents read under a published "We did", or "" when the figures could point
    at someone (a count under MIN_PUBLIC_COUNT, a place under MIN_PUBLIC_POPULATION) or are incomplete."""
    if not ev.ready or ev.missing or ev.here.change is None or ev.rest.change is None:
        return ""
    if min(ev.here.before, ev.here.after, ev.rest.before, ev.rest.after) < MIN_PUBLIC_COUNT:
        return ""
    if (ev.place.population or 0) < MIN_PUBLIC_POPULATION:
        return ""
    verb = "fell" if ev.here.after < ev.here.before else "rose" if ev.here.after > ev.here.before else "stayed"
    movement = (f"stayed at {ev.here.before}" if verb == "stayed" else
                f"{verb} from {ev.here.before} to {ev.here.after}")
    return (f"Recorded {ev.types_label} in {ev.place.name} {movement} in the {NUMBER_WORDS[ev.n]} after the "
            f"partnership's response began, while in {ev.comparison} it {_moved(ev.rest.change)}.")


def public_lines(concern_ids):
    """{concern id: public line} for published concerns answered by a published task, for a public page."""
    if not concern_ids:
        return {}
    pairs = db.session.execute(select(task_concerns.c.concern_id, Task).join(Task, Task.id == task_concerns.c.task_id)
                               .where(task_concerns.c.concern_id.in_(concern_ids), Task.published.is_(True))).all()
    evidence = evidence_for_tasks({task.id: task for _, task in pairs}.values())
    lines = {}
    for concern_id, task in pairs:
        line = public_line(evidence[task.id])
        if line:
            lines.setdefault(concern_id, line)
    return lines


# ---- the task's choice ----------------------------------------------------------------------------

def choose_evidence(task, *, by, crime_types=None, months=DEFAULT_MONTHS):
    """Set which crime types count for this task (None: its concern categories' defaults) and N, the months
    compared before and after. Logged on the task. NotAllowed unless ``by`` may update the task; PortalError
    naming the field for an unknown type or an N out of 1 to 12. Flushes; the caller commits."""
    if not can_update(by, task):
        raise NotAllowed("You can change the evidence only of your organisation's tasks")
    known = dict(CHOICES)
    if crime_types is not None:
        unknown = [k for k in crime_types if k not in known]
        if unknown:
            raise PortalError(f"Not a police.uk crime type: {', '.join(unknown)}", field="crime_types")
    if not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise PortalError(f"Choose between 1 and {MAX_MONTHS} months", field="months")
    own = db.session.get(TaskEvidence, task.id) or TaskEvidence(task_id=task.id)
    own.crime_types = sorted(set(crime_types)) if crime_types is not None else None
    own.months, own.changed_by_id, own.changed_at = months, by.id, utcnow()
    db.session.add(own)
    what = (type_names(own.crime_types) or "none") if own.crime_types is not None else "its concerns' defaults"
    entry = log(task, by, text=f"Evidence counts recorded {what}, {NUMBER_WORDS[months]} before and after the "
                               "response")
    entry.version = task.version_id
    db.session.flush()
    return own


def data_version_part(sender=None):
    """Receiver of public.signals.data_version: the plain line under a published "We did" changes when a
    task's choice of what counts changes or a task moves stage (its response began), so the public pages'
    shared bodies are rebuilt then too (a police.uk import is in the public version already)."""
    chosen, moved = db.session.execute(select(
        select(func.max(TaskEvidence.changed_at)).scalar_subquery(),
        select(func.max(TaskUpdate.id)).where(TaskUpdate.to_stage.is_not(None)).scalar_subquery())).one()
    return f"ev{chosen.isoformat() if chosen else 0}-{moved or 0}"
