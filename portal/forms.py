"""Form helpers shared by every feature: service errors shown on the right field."""
from flask import abort, request
from wtforms import SelectMultipleField, widgets

from .errors import PortalError


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


def show_error(form, error: PortalError):
    """Attach a service's refusal to the form field it names (or to the whole form)."""
    field = find_field(form, error.field)
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        form.form_errors.append(error.message)


def page_number():
    try:
        page = int(request.args.get("page", 1))
    except ValueError:
        abort(404)
    if page < 1:
        abort(404)
    return page


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
            items.extend((field.id, m) for m in field.errors if isinstance(m, str))
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


def render_form(template, form, **context):
    """A form page; 400 when a submitted form comes back with errors, so clients and tests can tell."""
    from flask import render_template

    return render_template(template, form=form, **context), (400 if request.method == "POST" else 200)


def int_or_none(value):
    """A select's chosen id, or None for its blank "Choose..." option."""
    return int(value) if value else None
