from flask_wtf import FlaskForm
from wtforms import FloatField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..forms import DateWithin, GovukDateField, GovukMonthField, finite
from .models import PERIOD_LABELS


class ManualValueForm(FlaskForm):
    indicator = SelectField("Indicator", coerce=str, default="", validators=[DataRequired("Choose an indicator")])
    locality = SelectField("Locality", coerce=str, default="", validators=[DataRequired("Choose a locality")])
    period_type = SelectField("Period", choices=[(k, v) for k, v in PERIOD_LABELS.items() if k != "rolling_12"])
    period_start = GovukMonthField("First month of the period", format=["%Y-%m", "%Y-%m-%d", "%m/%Y"],
                             validators=[DataRequired("Enter the first month"), DateWithin()],
                             description="For example, 2010-04 for the financial year 2010-11")
    value = FloatField("Value", validators=[InputRequired("Enter the value"), finite])
    note = TextAreaField("Source or note", validators=[Optional(), Length(max=1000)],
                         description="Where the figure comes from, e.g. Place Survey 2010")


MONTH_FORMATS = ["%Y-%m", "%Y-%m-%d", "%m/%Y"]


class IndicatorTargetsForm(FlaskForm):
    """What an indicator aims at: an absolute target, or one written as a change on a baseline period."""

    baseline = FloatField("Baseline", validators=[Optional()], description="The figure at the plan's start")
    target = FloatField("Target", validators=[Optional()],
                        description="Leave empty when the target is a change on a baseline period")
    target_date = GovukDateField("Target date", validators=[Optional()], description="For example, 2011-03-31")
    amber_tolerance = FloatField("Amber tolerance (percent)", validators=[InputRequired("Enter the tolerance")],
                                 description="How far off the trajectory is still Amber, e.g. 5")
    target_change_pct = FloatField("Relative target (percent change)", validators=[Optional()],
                                   description="For example, -1 for “reduce by 1%”; measured against the "
                                               "baseline period's own value")
    baseline_period_type = SelectField("Baseline period", coerce=str, default="",
                                       choices=[("", "None")] + [(k, v) for k, v in PERIOD_LABELS.items()
                                                                 if k != "rolling_12"])
    baseline_period_start = GovukMonthField("First month of the baseline period", format=MONTH_FORMATS,
                                      validators=[Optional()], description="For example, 2017-04")
    reason = TextAreaField("Reason for the change", validators=[DataRequired("Say why the target changes"),
                                                                Length(max=1000)])
