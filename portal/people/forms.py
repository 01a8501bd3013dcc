from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from ..access import ROLE_LABELS
from ..forms import CheckboxesField


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password")])


class UserForm(FlaskForm):
    display_name = StringField("Full name", validators=[DataRequired("Enter the person's name"), Length(max=120)])
    email = EmailField("Email address", validators=[
        DataRequired("Enter an email address"), Length(max=254, message="An email address has at most 254 characters"),
        Email("Enter an email address in the correct format, like name@example.org", check_deliverability=False)])
    role = SelectField("Role", choices=[("", "Choose a role")] + list(ROLE_LABELS.items()),
                       validators=[DataRequired("Choose a role")])
    organisation = SelectField("Organisation", coerce=str, validate_choice=True,
                               description="Partner users can update only their organisation's tasks")
    areas = CheckboxesField("Areas covered", coerce=int,
                            description="Neighbourhood officers change concerns only in these areas")
    password = PasswordField("Password", validators=[Optional()],
                             description="At least 12 characters. Leave empty to keep the current password.")
    active = BooleanField("Account is active", default=True)


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password")])
    new_password = PasswordField("New password", validators=[DataRequired("Enter a new password")],
                                 description="At least 12 characters")
