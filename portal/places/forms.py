from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from .models import LEVEL_LABELS


class LocalityForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the locality's name"), Length(max=120)])
    key = StringField("Key", description="Short unique identifier used in URLs and imports, like market-drayton",
                      validators=[DataRequired("Enter a key"), Length(max=80),
                                  Regexp(r"^[a-z0-9-]+$", message="Use lower-case letters, digits and hyphens only")])
    level = SelectField("Level", choices=[("", "Choose a level")] + list(LEVEL_LABELS.items()),
                        validators=[DataRequired("Choose a level")])
    parent = SelectField("Sits within", coerce=str)
    population = IntegerField("Population",
                              validators=[Optional(), NumberRange(min=0, message="Population cannot be negative"),
                                          NumberRange(max=10_000_000, message="Enter a population up to 10,000,000")],
                              description="Residents, used for rates per 1,000")
    population_source = StringField("Source of the population figure", validators=[Optional(), Length(max=300)])
    population_estimated = BooleanField("The population is an estimate")
    aliases = StringField("Other names", description="Separate with commas, like Bishops Castle, B. Castle",
                          validators=[Optional(), Length(max=500)])
    active = BooleanField("In use", default=True)
