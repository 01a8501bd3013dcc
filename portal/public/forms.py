from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from ..forms import DateTextField, DateWithin


class PublicFilterForm(FlaskForm):
    """The residents' filters, a GET form that works without JavaScript."""

    class Meta:
        csrf = False

    q = StringField("Town or village", validators=[Optional(), Length(max=80)],
                    description="For example, Ludlow or Bishops Castle")
    area = SelectField("Area", coerce=str, default="")
    category = SelectField("Concern", coerce=str, default="")
    date_from = DateTextField("Raised from", format=["%Y-%m-%d", "%d/%m/%Y"],
                              validators=[Optional(), DateWithin(future=None)])
    date_to = DateTextField("Raised up to", format=["%Y-%m-%d", "%d/%m/%Y"],
                            validators=[Optional(), DateWithin(future=None)])
