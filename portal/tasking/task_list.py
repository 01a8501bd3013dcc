"""The task list a person lands on, and the review queue officers work through.

The list is a fixed order of groups ("Awaiting your review" for those who review, then overdue, then by
status), each sorted by an indexed key. It is paged by position (keyset: the group, the sort key and the
id of the last task shown), never by counting or skipping rows, so a page costs the same whether the
table holds a hundred tasks or a hundred thousand: one statement finds the page's ids (each group's part
reads at most a page from its index), one loads those tasks.
"""
from dataclasses import asdict, dataclass, field
from datetime import date
from itertools import product
from typing import Optional

from sqlalchemy import ColumnElement, Integer, func, literal_column, select, tuple_, union_all
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..people.models import user_areas
from .models import ACTIVE_STATUSES, BLOCKED, CLOSED, COMPLETED, ESCALATED, IN_PROGRESS, OPEN, Task
from .policy import visible_task_ways, visible_tasks

PER_PAGE = 25
REVIEW = "review"


def awaiting_review():
    """The condition "completed, its 'We did' not yet reviewed and published, or edited since it was" (the
    review queue)."""
    return (Task.status == COMPLETED) & (Task.published.is_(False) | (Task.we_did != Task.published_we_did))


def reviews_tasks(user):
    """Officers (of their areas) and admins (of every area) review completed tasks."""
    return user.is_authenticated and (user.is_officer or user.is_admin)


def _review_queue(user):
    """The user's review queue as a select of tasks: their areas' for officers, every area's for admins."""
    query = select(Task).where(awaiting_review())
    if user.is_officer:
        # The areas as a subquery, not user.areas: the navigation asks on every page, in one statement.
        query = query.where(Task.area_id.in_(select(user_areas.c.locality_id)
                                             .where(user_areas.c.user_id == user.id)))
    return query


def awaiting_review_count(user):
    """How many completed tasks wait for this user's review (0 for those who do not review); one query."""
    if not reviews_tasks(user):
        return 0
    return db.session.execute(_review_queue(user).with_only_columns(func.count())).scalar_one()


def oldest_awaiting_review(user, limit=5):
    """The tasks waiting longest for this user's review, oldest completion first."""
    if not reviews_tasks(user):
        return []
    return db.session.execute(_review_queue(user).options(selectinload(Task.lead_organisation),
                                                          selectinload(Task.area))
                              .order_by(Task.completed_on, Task.id).limit(limit)).scalars().all()


# ---- filters: what the partnership dashboard's figures link to -----------------------------------

# What "show" picks out of the tasks. "open" is every task still being worked (overdue included); on time
# and late compare the completion date with the due date.
SHOW_LABELS = {"open": "Open (overdue included)", "overdue": "Overdue", "completed": "Completed",
               "on_time": "Completed on time", "late": "Completed late"}


@dataclass(frozen=True)
class TaskFilters:
    """Which of the tasks a person may see the list (and its CSV, and the dashboard) counts."""

    area_id: Optional[int] = None
    lead_organisation_id: Optional[int] = None
    show: str = ""  # a key of SHOW_LABELS, or "" for every task
    completed_from: Optional[date] = None
    completed_to: Optional[date] = None

    @property
    def is_set(self):
        return any(asdict(self).values())

    def query_args(self):
        """The filters as the list's query string (for its page links and its CSV)."""
        names = {"area_id": "area", "lead_organisation_id": "lead"}
        return {names.get(k, k): v.isoformat() if isinstance(v, date) else v
                for k, v in asdict(self).items() if v}


def show_condition(show, today):
    """The SQL condition of one "show" choice (the dashboard sums these, the list filters by them)."""
    active = Task.status.in_(ACTIVE_STATUSES)
    completed = (Task.status == COMPLETED) & Task.completed_on.is_not(None)
    return {"open": active, "overdue": active & (Task.due_on < today), "completed": completed,
            "on_time": completed & (Task.completed_on <= Task.due_on),
            "late": completed & (Task.completed_on > Task.due_on)}[show]


def filter_conditions(filters, today):
    """The filters as a list of SQL conditions on Task (none when nothing is filtered)."""
    conditions = []
    if filters.area_id:
        conditions.append(Task.area_id == filters.area_id)
    if filters.lead_organisation_id:
        conditions.append(Task.lead_organisation_id == filters.lead_organisation_id)
    if filters.show in SHOW_LABELS:
        conditions.append(show_condition(filters.show, today))
    if filters.completed_from:
        conditions.append(Task.completed_on >= filters.completed_from)
    if filters.completed_to:
        conditions.append(Task.completed_on <= filters.completed_to)
    return conditions


def filtered_tasks(user, filters, today=None):
    """The tasks ``user`` may see that match ``filters``, as a select (the list and its CSV share it)."""
    return visible_tasks(user).where(*filter_conditions(filters, today or date.today()))


# ---- the grouped, paged list ----------------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    key: str
    heading: str
    parts: tuple  # one condition per index range: a part reads its tasks in index order
    sort: ColumnElement  # the date the group is sorted by (then the id)


def groups_for(user, today):
    """The list's groups in order. Overdue spans three statuses, so it has three parts, each one range
    of the (status, due_on, id) index; the review queue reads (status, published, completed_on, id)."""
    reviewer = reviews_tasks(user)
    groups = [Group(REVIEW, "Awaiting your review", (awaiting_review(),), Task.completed_on)] if reviewer else []
    groups.append(Group("overdue", "Overdue", tuple((Task.status == s) & (Task.due_on < today)
                                                   for s in ACTIVE_STATUSES), Task.due_on))
    for key, heading in ((OPEN, "Open"), (IN_PROGRESS, "In progress"), (BLOCKED, "Blocked")):
        groups.append(Group(key, heading, ((Task.status == key) & (Task.due_on >= today),), Task.due_on))
    done = (Task.status == COMPLETED) & ~awaiting_review() if reviewer else Task.status == COMPLETED
    groups.append(Group(COMPLETED, "Completed", (done,), Task.due_on))
    for key, heading in ((ESCALATED, "Escalated to Silver"), (CLOSED, "Closed")):
        groups.append(Group(key, heading, (Task.status == key,), Task.due_on))
    return groups


@dataclass(frozen=True)
class Position:
    """Where a task sits in the list: its group's index, its sort date and its id."""

    group: int
    on: date
    id: int

    def token(self, groups):
        return f"{groups[self.group].key}.{self.on.isoformat()}.{self.id}"


def parse_position(token, groups):
    """A Position from a page link's token ("open.2026-12-01.42"), or None if it is not one."""
    try:
        key, on, ident = (token or "").split(".")
        index = [g.key for g in groups].index(key)
        position = Position(index, date.fromisoformat(on), int(ident))
    except ValueError:
        return None
    return position if 0 < position.id < 2**31 and ident.isascii() and ident.isdigit() else None


@dataclass
class TaskPage:
    groups: list = field(default_factory=list)  # [(key, heading, [tasks], continued)]
    next: str = None  # token of the last task shown, when more follow
    previous: str = None  # token of the first task shown, when some come before

    @property
    def is_empty(self):
        return not self.groups


def task_page(user, *, after=None, before=None, today=None, per_page=PER_PAGE, filters=TaskFilters()):
    """One page of the user's task list (of the tasks matching ``filters``), after (or before) a position
    token from a page link; a token that is not one reads as the first page. Returns a TaskPage. Two
    statements, whatever the table size."""
    today = today or date.today()
    groups = groups_for(user, today)
    backwards = before is not None and parse_position(before, groups) is not None
    at = parse_position(before if backwards else after, groups)
    conditions = filter_conditions(filters, today)
    parts = []
    for index, group in enumerate(groups):
        if at is not None and (index > at.group if backwards else index < at.group):
            continue
        for condition, visible in product(group.parts, visible_task_ways(user)):
            # The group's index is our own small number, written into the SQL as a constant.
            part = visible.where(*conditions).with_only_columns(
                literal_column(str(index), Integer).label("g"), group.sort.label("on"), Task.id).where(condition)
            if at is not None and index == at.group:
                key, there = tuple_(group.sort, Task.id), tuple_(at.on, at.id)
                part = part.where(key < there if backwards else key > there)
            order = (group.sort.desc(), Task.id.desc()) if backwards else (group.sort, Task.id)
            parts.append(select(part.order_by(*order).limit(per_page + 1).subquery()))
    # A task a partner both leads and supports comes once.
    rows = list({(r.g, r.id): r for r in db.session.execute(union_all(*parts))}.values()) if parts else []
    rows.sort(key=lambda r: (r.g, r.on or date.min, r.id), reverse=backwards)
    rows = [Position(r.g, r.on or date.min, r.id) for r in rows]
    more = len(rows) > per_page
    # The task just before the page's first one: where the last page ended, or the extra row read backwards.
    before_first = (rows[per_page] if more else None) if backwards else at
    rows = rows[:per_page]
    if backwards:
        rows.reverse()
    page = TaskPage()
    if not rows:
        return page
    page.previous = rows[0].token(groups) if before_first is not None else None
    page.next = rows[-1].token(groups) if (at is not None if backwards else more) else None
    tasks = {t.id: t for t in db.session.execute(select(Task).where(Task.id.in_([r.id for r in rows])).options(
        selectinload(Task.lead_organisation), selectinload(Task.owner), selectinload(Task.area))).scalars()}
    for row in rows:
        group = groups[row.group]
        if not page.groups or page.groups[-1][0] != group.key:
            continued = row is rows[0] and before_first is not None and before_first.group == row.group
            page.groups.append((group.key, group.heading, [], continued))
        page.groups[-1][2].append(tasks[row.id])
    return page
