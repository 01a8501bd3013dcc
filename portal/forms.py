"""Form helpers shared by every feature: service errors shown on the right field."""
from flask import abort, request
from wtforms import SelectMultipleField, widgets

from .errors import PortalError


class CheckboxesField(SelectMultipleField):
    """A multi-select shown as GOV.UK checkboxes (one tap each on a phone)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def show_error(form, error: PortalError):
    """Attach a service's refusal to the form field it names (or to the whole form)."""
    field = getattr(form, error.field, None) if error.field else None
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
