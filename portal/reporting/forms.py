from flask_wtf import FlaskForm
from wtforms import EmailField, FloatField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from ..forms import finite

MAX_TEXT = 1000  # a concern's description: long enough to explain, short enough to read out at a meeting


class RaiseConcernForm(FlaskForm):
    """A resident's concern (no account). Every field is text only: nothing typed is ever shown as a link."""

    # Checked by the service (concerns.check_resident_choice): one message for a missing, unknown or retired one.
    category = SelectField("What is happening?", coerce=str, validate_choice=False,
                           validators=[DataRequired("Choose what is happening from the list")])
    you_said = TextAreaField(
        "Tell us what you see", render_kw={"rows": 5, "maxlength": MAX_TEXT},
        validators=[DataRequired("Describe what is happening"),
                    Length(max=MAX_TEXT, message=f"Describe it in {MAX_TEXT:,} characters or fewer")],
        description="When, how often, and what it is like. Residents may read this once the partnership "
                    "publishes it: do not include names, house numbers or phone numbers.")
    place = StringField("Town, village or ward", validators=[Optional(), Length(max=80, message="Enter a place "
                                                                                "name of 80 characters or fewer")],
                        description="For example, Ludlow, Wem or Oswestry")
    place_key = RadioField("Which place do you mean?", choices=[], validate_choice=False)
    lat = FloatField("Latitude (optional)",
                     validators=[Optional(), finite,
                                 NumberRange(52.3, 53.1, "Latitude must be in Shropshire (52.3 to 53.1)")])
    lon = FloatField("Longitude (optional)",
                     validators=[Optional(), finite,
                                 NumberRange(-3.3, -2.2, "Longitude must be in Shropshire (-3.3 to -2.2)")])
    email = EmailField("Email address (optional)", validators=[
        Optional(), Length(max=254, message="Enter an email address of 254 characters or fewer"),
        Email("Enter an email address in the correct format, like name@example.org", check_deliverability=False)],
        description="Only to tell you when the partnership accepts, responds to or closes it. Never shown to "
                    "anyone; deleted when it is closed.")
    # The honeypot: hidden from people (CSS and aria-hidden), filled in by form-filling bots.
    website = StringField("Leave this empty", validators=[Optional(), Length(max=200)])


class StopForm(FlaskForm):
    """The "stop these emails" page's button: its CSRF token (a mail client's one-click POST needs none)."""
