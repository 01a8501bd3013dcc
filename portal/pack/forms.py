from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from .services import MAX_COMMENTARY


class CommentaryForm(FlaskForm):
    locality = SelectField("Where", coerce=str, default="", validators=[DataRequired("Choose where the note is about")])
    text = TextAreaField("Commentary", validators=[DataRequired("Enter the commentary"),
                                                   Length(max=MAX_COMMENTARY, message=f"The commentary must be "
                                                          f"{MAX_COMMENTARY:,} characters or fewer")],
                         description="What explains the figure and what the partnership is doing about it. "
                                     "Shown in the pack under the indicator, and in its exceptions.")


class IssueForm(FlaskForm):
    """Issuing has no fields: the form carries the CSRF token."""
