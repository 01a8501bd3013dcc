from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .models import ANSWERS, COMMENT_MAX


class AnswerForm(FlaskForm):
    """A resident's answer under a "We did" (the item's own page; the lists link to it)."""

    answer = RadioField("Has this made a difference?", choices=list(ANSWERS.items()),
                        validators=[DataRequired("Choose whether this has made a difference: yes, partly or no")])
    comment = TextAreaField("Tell us more (optional)", validators=[Optional(), Length(
        max=COMMENT_MAX, message=f"Your comment must be {COMMENT_MAX} characters or fewer")],
        render_kw={"rows": 3, "maxlength": COMMENT_MAX},
        description=f"Up to {COMMENT_MAX} characters. Do not include names, addresses or phone numbers: an officer "
                    "reads every comment before it is shown on this site.")
    next = HiddenField()


class ModerateForm(FlaskForm):
    """Approve or reject a comment (the button pressed says which)."""

    next = HiddenField()


class RedactCommentForm(FlaskForm):
    text = StringField("Words to remove", validators=[DataRequired("Enter the words to remove, exactly as they "
                                                                   "appear"), Length(max=500)])
    next = HiddenField()
