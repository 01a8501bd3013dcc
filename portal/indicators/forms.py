from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, FloatField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..forms import DateWithin, finite
from .models import PERIOD_LABELS


class CrimeUploadForm(FlaskForm):
    file = FileField("police.uk file", validators=[
        FileRequired("Choose a police.uk CSV file or a zip of them"),
        FileAllowed(["csv", "zip"], "The file must be a .csv or a .zip of .csv files")],
        description="A street-level crime CSV from data.police.uk, or a zip of monthly files")


class ManualValueForm(FlaskForm):
    indicator = SelectField("Indicator", coerce=str, default="", validators=[DataRequired("Choose an indicator")])
    locality = SelectField("Locality", coerce=str, default="", validators=[DataRequired("Choose a locality")])
    period_type = SelectField("Period", choices=[(k, v) for k, v in PERIOD_LABELS.items() if k != "rolling_12"])
    period_start = DateField("First month of the period", format=["%Y-%m", "%Y-%m-%d", "%m/%Y"],
                             validators=[DataRequired("Enter the first month, like 2010-04"), DateWithin()],
                             description="For example, 2010-04 for the financial year 2010-11")
    value = FloatField("Value", validators=[InputRequired("Enter the value"), finite])
    note = TextAreaField("Source or note", validators=[Optional(), Length(max=1000)],
                         description="Where the figure comes from, e.g. Place Survey 2010")
