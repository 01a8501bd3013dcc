from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length


class FollowForm(FlaskForm):
    email = EmailField("Email address", description="We use it only to send these updates, and never show it.",
                       validators=[DataRequired("Enter your email address"),
                                   Length(max=254, message="An email address has at most 254 characters"),
                                   Email("Enter an email address in the correct format, like name@example.org",
                                         check_deliverability=False)])


class ButtonForm(FlaskForm):
    """A form that is only a button (confirm, unsubscribe): its CSRF token."""
