from datetime import date

from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import DataRequired, ValidationError

from ..forms import DateWithin, GovukDateField

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def default_period(today=None):
    """The last twelve months: from the first of the month eleven months back to today."""
    today = today or date.today()
    months = today.year * 12 + today.month - 1 - 11
    return date(months // 12, months % 12 + 1, 1), today


class DashboardForm(FlaskForm):
    """The dashboard's area and period (a GET form: a filtered dashboard is a link people share)."""

    class Meta:
        csrf = False

    area = SelectField("Area", coerce=str, default="")
    date_from = GovukDateField("From", format=DATE_FORMATS,
                               validators=[DataRequired("Enter the first day of the period"), DateWithin(future=None)])
    date_to = GovukDateField("To", format=DATE_FORMATS,
                             validators=[DataRequired("Enter the last day of the period"), DateWithin(future=None)])

    def validate_date_to(self, field):
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError("The last day of the period must be on or after its first day")
