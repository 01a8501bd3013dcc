"""Form helpers shared by every feature: service errors shown on the right field, and the checks
every request value passes before it reaches the database (ids, page numbers, dates, numbers)."""
import math
import re
from datetime import date, timedelta

from flask import abort, request
from wtforms import DateField, HiddenField, SelectMultipleField, widgets
from wtforms.utils import unset_value
from wtforms.validators import StopValidation, ValidationError

from .errors import PortalError

# The largest id an INTEGER column holds: a longer one would overflow on PostgreSQL.
MAX_ID = 2**31 - 1
MAX_PAGE = 100_000
ID = re.compile(r"^[0-9]{1,10}$")  # ASCII digits only: str.isdigit() also accepts "²"
EARLIEST = date(2000, 1, 1)  # nothing the partnership records is older
LATEST = date(2099, 12, 31)


class CheckboxesField(SelectMultipleField):
    """A multi-select shown as GOV.UK checkboxes (one tap each on a phone)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def find_field(form, name):
    """The field a name like "email" or "concerns-2-locality" (a row of a FieldList) points at."""
    if not name:
        return None
    if name in form._fields:
        return form._fields[name]
    head, _, rest = name.partition("-")
    field = form._fields.get(head)
    if field is None or not rest:
        return None
    index, _, rest = rest.partition("-")
    try:
        entry = field.entries[int(index)]
    except (AttributeError, ValueError, IndexError):
        return None
    return find_field(entry.form, rest) if rest and hasattr(entry, "form") else entry


class VersionField(HiddenField):
    """The version of a record the page showed (optimistic locking): a whole number, or the page is refused."""

    def pre_validate(self, form):
        if self.data not in (None, "") and parse_id(self.data) is None:
            raise ValidationError("This page is out of date or damaged: reload it and try again")


def show_error(form, error: PortalError):
    """Attach a service's refusal to the form field it names (or to the whole form)."""
    field = find_field(form, error.field)
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        form.form_errors.append(error.message)


def page_number():
    """The ?page= of a list: 404 unless it is a whole number from 1 to MAX_PAGE."""
    page = parse_id(request.args.get("page", "1"))
    if page is None or not 1 <= page <= MAX_PAGE:
        abort(404)
    return page


def parse_id(value):
    """An id (or count) from a request as an int, or None unless it is ASCII digits within MAX_ID."""
    text = str(value if value is not None else "").strip()
    if not ID.match(text) or int(text) > MAX_ID:
        return None
    return int(text)


class DateWithin:
    """A date validator: not before ``earliest``; not after today plus ``future`` (a timedelta), or
    not after LATEST when ``future`` is None."""

    def __init__(self, earliest=EARLIEST, future=timedelta(0)):
        self.earliest, self.future = earliest, future

    def __call__(self, form, field):
        if field.data is None:
            return
        if field.data < self.earliest:
            raise ValidationError(f"{field.label.text} must be on or after {self.earliest.day} "
                                  f"{self.earliest:%B %Y}")
        if self.future is None:
            if field.data > LATEST:
                raise ValidationError(f"{field.label.text} must be before {LATEST.year + 1}")
        elif field.data > date.today() + self.future:
            raise ValidationError(f"{field.label.text} must be today or in the past" if not self.future else
                                  f"{field.label.text} must be within {self.future.days // 365} years from today")


class GovukDateField(DateField):
    """A date typed as the GOV.UK date input's Day, Month and Year boxes (``<name>-day``, ``<name>-month``,
    ``<name>-year``); ``.data`` is a ``datetime.date``, as DateField's. When none of the parts is sent, the
    field's single value (``<name>=05/12/2018`` in one of ``format``) is read exactly as DateField reads it,
    so scripts and older clients keep working. A part that is missing or wrong stops validation with a
    message naming it; ``error_parts`` are the boxes to highlight and ``error_id`` the one to link to."""

    widget = widgets.TextInput()  # never type="date": the macro renders the parts
    parts = ("day", "month", "year")
    hint = "For example, 27 3 2026"

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.part_values, self.part_error, self.error_parts = {}, None, ()
        if formdata is not None and any(f"{self.name}-{part}" in formdata for part in self.parts):
            self.part_values = {part: (formdata.get(f"{self.name}-{part}") or "").strip() for part in self.parts}
        super().process(formdata, data, extra_filters)

    def process_formdata(self, valuelist):
        if not self.part_values:
            return super().process_formdata(valuelist)
        self.raw_data = [" ".join(self.part_values.values()).strip()]  # what Optional() looks at
        self.data = None
        if not self.raw_data[0]:
            return  # nothing typed: DataRequired or Optional decides
        missing = [part for part in self.parts if not self.part_values[part]]
        if missing:
            return self._refuse(f"must include a {' and '.join(missing)}", missing)
        numbers = {part: int(v) if v.isascii() and v.isdigit() and len(v) <= 4 else None
                   for part, v in self.part_values.items()}
        wrong = [part for part, number in numbers.items() if number is None]
        if wrong:
            return self._refuse("must be a real date", wrong)
        if len(self.part_values["year"]) != 4:
            return self._refuse("must include a year with 4 numbers, like 2026", ["year"])
        try:
            self.data = self._date(numbers)
        except ValueError:
            self._refuse("must be a real date", self.parts)

    def _date(self, numbers):
        return date(numbers["year"], numbers["month"], numbers["day"])

    def _refuse(self, reason, parts):
        self.part_error, self.error_parts = f"{self.label.text} {reason}", tuple(parts)

    def pre_validate(self, form):
        if self.part_error:
            raise StopValidation(self.part_error)  # before DataRequired, which would replace the message

    @property
    def error_id(self):
        """The id the error summary links to: the first box in error."""
        return f"{self.id}-{(self.error_parts or self.parts)[0]}"

    def part_value(self, part):
        """What a box shows: what was typed, or the part of the date."""
        if self.part_values:
            return self.part_values[part]
        return str(getattr(self.data, part)) if isinstance(self.data, date) else ""

    def part_has_error(self, part):
        return bool(self.errors) and (not self.error_parts or part in self.error_parts)


class DateTextField(DateField):
    """A date typed in one text box (27/3/2026 or 2026-03-27), never a native date picker. Only for the
    residents' GET filters: their links, map data and shared cache keys carry the single name
    (portal/public/views.py public_args), which the date input's three boxes would not reach."""

    widget = widgets.TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("description", "For example, 27/3/2026")
        super().__init__(label, validators, **kwargs)


class GovukMonthField(GovukDateField):
    """A month typed as Month and Year boxes (``<name>-month``, ``<name>-year``); ``.data`` is the first
    day of that month. The single value is read in ``format`` (by default 2010-04, 2010-04-01 or 04/2010)."""

    parts = ("month", "year")
    hint = "For example, 3 2026"

    def __init__(self, label=None, validators=None, format=("%Y-%m", "%Y-%m-%d", "%m/%Y"), **kwargs):
        super().__init__(label, validators, format=list(format), **kwargs)

    def _date(self, numbers):
        return date(numbers["year"], numbers["month"], 1)

    def part_value(self, part):
        return super().part_value(part) if part != "day" else ""


def finite(form, field):
    """A number validator: refuses nan and inf, which float() accepts and NumberRange lets through."""
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError(f"{field.label.text}: enter a number")


def error_items(form):
    """(field id, message) for every error of a form, rows of FieldLists included: the error summary's links."""
    items = [(None, message) for message in form.form_errors]
    for field in form:
        if hasattr(field, "entries"):  # FieldList: errors live on each row's fields
            items.extend((field.id, m) for m in field.errors if isinstance(m, str))
            for entry in field.entries:
                if hasattr(entry, "form"):
                    items.extend((fid, msg) for fid, msg in error_items(entry.form) if fid)
                else:
                    items.extend((entry.id, m) for m in entry.errors if isinstance(m, str))
        elif hasattr(field, "form") and field.type == "FormField":
            items.extend(error_items(field.form))
        else:
            target = getattr(field, "error_id", field.id)  # a date input links to its first box in error
            if field.type in ("HiddenField", "CSRFTokenField"):
                target = None  # nothing to correct there, and pages with several forms render them without ids
            items.extend((target, m) for m in field.errors if isinstance(m, str))
    return items


def split_names(text):
    """"Bishops Castle, B. Castle" -> ["Bishops Castle", "B. Castle"]: the other-names fields."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def form_page(template, form, **context):
    """Declare the page a form is on before calling the service that handles it: if the service raises
    a PortalError, the app's one error handler rolls back and shows this page again with the message on
    the field it names (``on_refused=callable(error)`` may adjust the form first, e.g. show the latest
    version after a conflict). Returns the form."""
    from flask import g

    g.form_page = (template, form, context)
    return form


def commit_or_conflict(message, save):
    """Run a service call and commit its unit of work. A concurrent save of the same record
    (SQLAlchemy's StaleDataError on the version counter) becomes a ConflictError with ``message``,
    which the one error handler shows on the page (409)."""
    from sqlalchemy.orm.exc import StaleDataError

    from .errors import ConflictError
    from .extensions import db

    try:
        result = save()
        db.session.commit()
    except StaleDataError as error:
        raise ConflictError(message) from error
    return result


def render_form(template, form, **context):
    """A form page; 400 when a submitted form comes back with errors, so clients and tests can tell."""
    from flask import render_template

    return render_template(template, form=form, **context), (400 if request.method == "POST" else 200)


def int_or_none(value):
    """A select's chosen id, or None for its blank "Choose..." option (or anything that is not an id)."""
    return parse_id(value) if value else None
