from datetime import date, timedelta

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    FloatField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ..forms import CheckboxesField, DateWithin, GovukDateField, VersionField, finite, parse_id
from .models import REDACTABLE_FIELDS, RESIDENT_SOURCES, SOURCE_LABELS, STATUS_LABELS

DATE_HINT = "For example, 14/03/2010"


def repeat_of(value):
    """The open concern a "same problem?" answer links to ("link:<id>"), or None ("new", unanswered)."""
    value = (value or "").strip()
    return parse_id(value[5:]) if value.startswith("link:") else None


def repeat_answer(form, field):
    value = (field.data or "").strip()
    if value not in ("", "new") and repeat_of(value) is None:
        raise ValidationError("Choose whether this is the same problem as the open concern")


class ConcernEntryForm(Form):
    """One concern raised at a PACT meeting (a row of the meeting form; no CSRF of its own)."""

    category = SelectField("Category", coerce=str, default="")
    you_said = TextAreaField("What residents said", validators=[Length(max=2000)], render_kw={"rows": 3},
                             description="Shown to the public as 'You said'. No names or house numbers.")
    locality = SelectField("Where", coerce=str, default="",
                           description="Leave as the meeting's locality, or pick a ward")
    street = StringField("Street or landmark (optional, never public)", validators=[Optional(), Length(max=200)])
    lat = FloatField("Latitude (optional)",
                     validators=[Optional(), finite,
                                 NumberRange(52.3, 53.1, "Latitude must be in Shropshire (52.3 to 53.1)")])
    lon = FloatField("Longitude (optional)",
                     validators=[Optional(), finite,
                                 NumberRange(-3.3, -2.2, "Longitude must be in Shropshire (-3.3 to -2.2)")])
    raised_count = IntegerField("Residents raising it", default=1,
                                validators=[Optional(), NumberRange(1, 500, "Enter a number from 1 to 500")])
    internal_notes = TextAreaField("Internal notes (never public)", validators=[Optional(), Length(max=4000)],
                                   render_kw={"rows": 2})
    is_priority = BooleanField("One of the meeting's agreed priorities")
    repeat = RadioField("Is this the same problem?", choices=[], validate_choice=False, validators=[repeat_answer])

    def is_blank(self):
        return not (self.category.data or (self.you_said.data or "").strip())

    def validate(self, extra_validators=None):
        """A row left empty is ignored; a started row needs its category and text."""
        valid = super().validate(extra_validators)
        if self.is_blank():
            return valid
        for field, message in ((self.category, "Choose a category"), (self.you_said, "Enter what residents said")):
            if not (field.data or "").strip():
                field.errors = list(field.errors) + [message]
                valid = False
        return valid


MAX_CONCERN_ROWS = 30
TOO_MANY_ROWS = (f"A meeting form holds at most {MAX_CONCERN_ROWS} concerns: nothing was saved. "
                 "Record the rest on a second form for the same meeting.")


def concern_rows_sent():
    """How many concern rows the submitted meeting form holds (FieldList would count only the first 30)."""
    from flask import request

    return len({key.split("-")[1] for key in request.form if key.startswith("concerns-") and key.count("-") >= 2})


class PactMeetingForm(FlaskForm):
    locality = SelectField("Neighbourhood or ward", coerce=str,
                           validators=[DataRequired("Choose where the meeting was held")])
    held_on = GovukDateField("Date of the meeting", format=["%Y-%m-%d", "%d/%m/%Y"], description=DATE_HINT,
                        validators=[DataRequired("Enter the date of the meeting"), DateWithin()],
                        default=date.today)
    venue = StringField("Venue", validators=[Optional(), Length(max=200)])
    attendance = IntegerField("Residents attending", default=0,
                              validators=[Optional(), NumberRange(0, 2000, "Enter a number from 0 to 2,000")])
    partners = CheckboxesField("Partners present", coerce=int)
    notes = TextAreaField("Meeting notes (internal, never public)", validators=[Optional(), Length(max=8000)],
                          render_kw={"rows": 3})
    next_meeting_on = GovukDateField("Date of the next meeting (optional)", format=["%Y-%m-%d", "%d/%m/%Y"],
                                validators=[Optional(), DateWithin(future=timedelta(days=2 * 365))],
                                description="Residents see it on their locality's page")
    next_meeting_venue = StringField("Venue of the next meeting", validators=[Optional(), Length(max=200)])
    concerns = FieldList(FormField(ConcernEntryForm), min_entries=3, max_entries=MAX_CONCERN_ROWS)

    def validate_concerns(self, field):
        # FieldList quietly drops rows past max_entries: refuse the form instead, so nothing is half-saved.
        if concern_rows_sent() > MAX_CONCERN_ROWS:
            raise ValidationError(TOO_MANY_ROWS)


class ConcernForm(FlaskForm):
    """A concern from another source: a partner referral, a resident contact or the survey."""

    source = RadioField("Where did it come from?", choices=[(k, v) for k, v in SOURCE_LABELS.items()
                                                                 if k != "pact" and k not in RESIDENT_SOURCES],
                        validators=[DataRequired("Choose where the concern came from")])
    raised_on = GovukDateField("Date raised", format=["%Y-%m-%d", "%d/%m/%Y"], default=date.today,
                               description=DATE_HINT,
                               validators=[DataRequired("Enter the date raised"), DateWithin()])
    category = SelectField("Category", coerce=str, validators=[DataRequired("Choose a category")])
    you_said = TextAreaField("What was said", validators=[DataRequired("Enter what the resident or partner said"),
                                                          Length(max=2000)],
                             description="Shown to the public as 'You said' once published. No names.")
    locality = SelectField("Where", coerce=str, validators=[DataRequired("Choose where")])
    street = StringField("Street or landmark (never public)", validators=[Optional(), Length(max=200)])
    internal_notes = TextAreaField("Internal notes (never public)", validators=[Optional(), Length(max=4000)])
    raised_count = IntegerField("People raising it", default=1, validators=[Optional(), NumberRange(1, 500)])
    repeat = RadioField("Is this the same problem?", choices=[], validate_choice=False, validators=[repeat_answer])


PUBLIC_REASON_LABEL = "Reason residents will read (public)"
PUBLIC_REASON_HINT = ("Needed for 'no further action' and 'escalated to the county (Silver) group'. Shown on the "
                      "public list, map and locality page with the status. No names, addresses or phone numbers.")
LAT = dict(validators=[Optional(), finite, NumberRange(52.3, 53.1, "Latitude must be in Shropshire (52.3 to 53.1)")])
LON = dict(validators=[Optional(), finite, NumberRange(-3.3, -2.2, "Longitude must be in Shropshire (-3.3 to -2.2)")])


class EditConcernForm(FlaskForm):
    """Corrections to a logged concern (corrections.edit_concern): every field shown with its current value."""

    version = VersionField()
    category = SelectField("Category", coerce=str, validators=[DataRequired("Choose a category")])
    locality = SelectField("Where", coerce=str, validators=[DataRequired("Choose where")])
    street = StringField("Street or landmark (never public)", validators=[Optional(), Length(max=200)])
    lat = FloatField("Latitude (optional, never public)", **LAT)
    lon = FloatField("Longitude (optional, never public)", **LON)
    you_said = TextAreaField("You said", validators=[DataRequired("Enter what residents said"), Length(max=2000)],
                             description="Public once published. To take a name or number out of a published text, "
                                         "use “Redact” instead: an edit keeps the old text in the history.")
    internal_notes = TextAreaField("Internal notes (never public)", validators=[Optional(), Length(max=4000)])
    raised_count = IntegerField("Residents raising it", validators=[
        DataRequired("Enter how many residents raised it"), NumberRange(1, 500, "Enter a number from 1 to 500")])
    public_reason = TextAreaField(PUBLIC_REASON_LABEL, validators=[Optional(), Length(max=2000)],
                                  description="Shown to residents with the status. No names, addresses or phone "
                                              "numbers.")


class WithdrawForm(FlaskForm):
    version = VersionField()
    reason = TextAreaField("Why it is being withdrawn (internal)",
                           validators=[DataRequired("Give the reason for withdrawing it from public view"),
                                       Length(max=2000)],
                           description="Kept in the history for staff; residents are not told.")


class RedactForm(FlaskForm):
    version = VersionField()
    field = RadioField("Remove words from", choices=list(REDACTABLE_FIELDS.items()), default="you_said",
                       validators=[DataRequired("Choose the text to remove words from")])
    text = StringField("Words to remove", validators=[DataRequired("Enter the words to remove, exactly as they appear"),
                                                      Length(max=2000)],
                       description="Type or paste them exactly as they appear, or select them in the text above. "
                                   "Every place they appear is replaced with [removed].")


class StatusForm(FlaskForm):
    version = HiddenField()
    status = SelectField("New status", coerce=str, validators=[DataRequired("Choose the new status")])
    reason = TextAreaField("Reason or note (internal)", validators=[Optional(), Length(max=2000)],
                           description="For staff only: kept in the history")
    we_did = TextAreaField("We did", validators=[Optional(), Length(max=2000)],
                           description="What was done, in plain words: residents read this")
    public_reason = TextAreaField(PUBLIC_REASON_LABEL, validators=[Optional(), Length(max=2000)],
                                  description=PUBLIC_REASON_HINT)
    responded_on = GovukDateField("Date of the response", format=["%Y-%m-%d", "%d/%m/%Y"],
                             validators=[Optional(), DateWithin()])


class PublishForm(FlaskForm):
    version = HiddenField()


class RegisterFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form

    area = SelectField("Area", coerce=str, default="")
    locality = SelectField("Locality", coerce=str, default="")
    category = SelectField("Category", coerce=str, default="")
    status = SelectField("Status", coerce=str, default="",
                         choices=[("", "Any status"), ("open", "Open (new, accepted, in progress)")]
                         + list(STATUS_LABELS.items()))
    source = SelectField("Source", coerce=str, default="", choices=[("", "Any source")] + list(SOURCE_LABELS.items()))
    priority = BooleanField("PACT priorities only")
    answered = BooleanField("Only those whose 'We did' residents can read")
    date_from = GovukDateField("From", format=["%Y-%m-%d", "%d/%m/%Y"],
                               validators=[Optional(), DateWithin(future=None)])
    date_to = GovukDateField("To", format=["%Y-%m-%d", "%d/%m/%Y"], validators=[Optional(), DateWithin(future=None)])
    sort = SelectField("Sort by", default="newest", choices=[("newest", "Newest first"), ("oldest", "Oldest first"),
                                           ("most_raised", "Most raised"), ("status", "Status")])


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    date_from = GovukDateField("From", format=["%Y-%m-%d", "%d/%m/%Y"],
                          validators=[DataRequired("Enter the start date"), DateWithin(future=None)])
    date_to = GovukDateField("To", format=["%Y-%m-%d", "%d/%m/%Y"],
                        validators=[DataRequired("Enter the end date"), DateWithin(future=None)])


class SurveyUploadForm(FlaskForm):
    file = FileField("Survey results (CSV)", validators=[
        FileRequired("Choose a CSV file"), FileAllowed(["csv"], "The file must be a CSV")],
        description="Columns: survey, period, area, topic, rank, percentage. See the example in the README.")


class CategoryForm(FlaskForm):
    group = SelectField("Group", coerce=str, default="")
    name = StringField("Name", validators=[DataRequired("Enter the category's name"), Length(max=160)],
                       description="In capitals like the PACT returns, for example ENVIRONMENTAL - LITTER")


def concern_ids(form, field):
    if any(parse_id(value) is None for value in field.data or []):
        raise ValidationError("This page is out of date or damaged: reload it and try again")


class ConcernSelection(SelectMultipleField):
    """The concerns a bulk form acts on: repeated inputs of concern ids (checkboxes, or hidden inputs)."""

    def __init__(self, label=None, validators=(), **kwargs):
        super().__init__(label, [concern_ids, *validators], coerce=str, validate_choice=False, **kwargs)

    @property
    def ids(self):
        return [parse_id(value) for value in self.data or []]


class PublishReviewedForm(FlaskForm):
    """"Publish all reviewed concerns" on a PACT meeting's page: the ids of those the page listed."""

    concerns = ConcernSelection("Reviewed concerns")


class BulkStatusForm(FlaskForm):
    """Select-and-act on the register: the ticked concerns, what to do with them, one reason for all."""

    concerns = ConcernSelection("Select concerns")
    action = SelectField("What to do", coerce=str, validators=[DataRequired("Choose what to do with them")],
                         choices=[("accepted", "Accept for tasking"),
                                  ("no_further_action", "Close as no further action")])
    reason = TextAreaField("Reason, for every selected concern", validators=[Optional(), Length(max=2000)],
                           description="Needed to close them as no further action. Residents will read it on "
                                       "each concern's public page, so name no one; it is also kept in each "
                                       "concern's history")
