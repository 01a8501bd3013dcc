from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from .models import KINDS


class OrganisationForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the organisation's name"), Length(max=160)])
    short_name = StringField("Short name", validators=[Optional(), Length(max=60)], description="For example, WMP")
    kind = SelectField("Kind of agency", choices=[(k, k.capitalize()) for k in KINDS])
    aliases = StringField("Other names", validators=[Optional(), Length(max=500)],
                          description="Names used in documents and imports, separated by commas")
    active = BooleanField("Active partner", default=True)
