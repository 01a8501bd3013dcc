from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from ..forms import CheckboxesField
from .models import DEFAULT_MONTHS, MAX_MONTHS
from .services import CHOICES

MONTHS_MESSAGE = f"Enter how many months to compare, 1 to {MAX_MONTHS}"


class EvidenceForm(FlaskForm):
    crime_types = CheckboxesField("Recorded crime that counts for this task", choices=CHOICES,
                                  description="police.uk's types. Leave all unticked to count none (for a problem "
                                              "police data cannot see, such as speeding).")
    months = IntegerField("Months before and after the response", default=DEFAULT_MONTHS,
                          validators=[InputRequired(MONTHS_MESSAGE), NumberRange(1, MAX_MONTHS, MONTHS_MESSAGE)],
                          description=f"1 to {MAX_MONTHS}; fewer are shown while police data for them is not yet "
                                      "published")
