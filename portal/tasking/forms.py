from datetime import date, timedelta

from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, Length, Optional, ValidationError

from ..forms import CheckboxesField, DateWithin, GovukDateField, VersionField, parse_id
from ..plan.forms import action_field
from .models import DECISIONS, PRIORITIES, STAGE_LABELS, TASK_STATUS_LABELS
from .task_list import SHOW_LABELS, TaskFilters

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
FIVE_YEARS = timedelta(days=5 * 365)


class TaskForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Enter a title for the task"), Length(max=200)],
                        description="Short, like 'Youths gathering at Wem recreation ground'")
    problem = TextAreaField("The problem", validators=[DataRequired("Describe the problem the task is to solve"),
                                                       Length(max=5000)])
    locality = SelectField("Where", coerce=str, default="", validators=[DataRequired("Choose where the problem is")])
    lead_organisation = SelectField("Lead partner", coerce=str, default="",
                                    validators=[DataRequired("Choose the lead partner")])
    supporting = CheckboxesField("Supporting partners", coerce=int)
    owner = SelectField("Owner", coerce=str, default="", validators=[DataRequired("Choose who owns the task")],
                        description="A person in the lead partner's organisation")
    due_on = GovukDateField("Due date", format=DATE_FORMATS, validators=[DataRequired("Enter the due date"),
                                                                    DateWithin(future=FIVE_YEARS)])
    priority = RadioField("Priority", choices=list(PRIORITIES), default="medium")
    action = action_field()
    concerns = HiddenField()


class TaskUpdateForm(FlaskForm):
    version = VersionField()
    text = TextAreaField("Update", validators=[Optional(), Length(max=5000)],
                         description="What was done, found or planned")
    link = StringField("Link to a document (optional)",
                       validators=[Optional(), URL(message="Enter a full web address, starting https://"),
                                   Length(max=500)])
    stage = SelectField("SARA stage", choices=list(STAGE_LABELS.items()))
    status = SelectField("Status", choices=list(TASK_STATUS_LABELS.items()))
    blocked_reason = TextAreaField("What is blocking it", validators=[Optional(), Length(max=2000)])
    victim = TextAreaField("Analysis: victim", validators=[Optional(), Length(max=3000)])
    offender = TextAreaField("Analysis: offender", validators=[Optional(), Length(max=3000)])
    location = TextAreaField("Analysis: location", validators=[Optional(), Length(max=3000)])
    assessment = TextAreaField("Assessment: what changed, with evidence", validators=[Optional(), Length(max=5000)])
    we_did = TextAreaField("We did (public)", validators=[Optional(), Length(max=2000)],
                           description="What residents will read once an officer has reviewed it")
    # Checked by portal/tasking/attachments.py (type from the bytes, size, images cleaned), not here.
    files = MultipleFileField("Photos or documents (optional)",
                              render_kw={"accept": "image/jpeg,image/png,image/webp,.pdf,.docx,.xlsx,.pptx,"
                                                   ".odt,.ods,.odp"})


class WithdrawFileForm(FlaskForm):
    reason = TextAreaField("Why the file is being withdrawn", validators=[
        DataRequired("Say why the file is being withdrawn"), Length(max=2000)],
        description="Kept in the task's log. The file is no longer shown to anyone, but it is not deleted.",
        render_kw={"rows": 3})


def ids_only(form, field):
    """Every value of a multiple choice is an id (which organisation it names is the service's to check)."""
    if any(parse_id(value) is None for value in field.data or []):
        raise ValidationError(f"{field.label.text}: choose from the list")


class TaskDetailsForm(FlaskForm):
    """A task's details after it is raised. The lists hold only what the user may choose; an id typed in
    anyway reaches the service, which refuses it naming the field."""

    version = VersionField()
    due_on = GovukDateField("Due date", format=DATE_FORMATS, validators=[DataRequired("Enter the due date"),
                                                                    DateWithin(future=FIVE_YEARS)])
    due_reason = TextAreaField("Reason for a new due date", validators=[Optional(), Length(max=1000)],
                               description="Needed when the due date changes; it is kept in the task's log",
                               render_kw={"rows": 2})
    owner = SelectField("Owner", coerce=str, default="", validate_choice=False,
                        description="A person in the lead partner's organisation")
    lead_organisation = SelectField("Lead partner", coerce=str, default="", validate_choice=False)
    supporting = CheckboxesField("Supporting partners", coerce=str, validate_choice=False, validators=[ids_only])
    priority = RadioField("Priority", choices=list(PRIORITIES))


class ReviewForm(FlaskForm):
    version = VersionField()


def review_form_for(task, concerns, **kwargs):
    """The review form with one "We did" per concern the review answers (``we_did_<concern id>``), labelled
    with the concern's category and what residents said, pre-filled with the task's "We did"."""

    class TaskReviewForm(ReviewForm):
        pass

    for concern in concerns:
        said = concern.you_said if len(concern.you_said) <= 140 else concern.you_said[:139] + "…"
        setattr(TaskReviewForm, f"we_did_{concern.id}", TextAreaField(
            f"We did for {concern.category.name.capitalize()} in {concern.locality.name}. You said: “{said}”",
            validators=[Length(max=2000)],  # an empty one is refused by the service, naming the concern
            default=task.we_did, render_kw={"rows": 3}))
    return TaskReviewForm(**kwargs)


class MeetingForm(FlaskForm):
    area = SelectField("Area", coerce=str, default="", validators=[DataRequired("Choose the area")])
    held_on = GovukDateField("Date of the meeting", format=DATE_FORMATS, default=date.today,
                        validators=[DataRequired("Enter the date of the meeting"), DateWithin()])
    next_meeting_on = GovukDateField("Date of the next meeting (optional)", format=DATE_FORMATS,
                                validators=[Optional(), DateWithin(future=timedelta(days=2 * 365))])
    attendees = CheckboxesField("Partners attending", coerce=int)


class CompactDecisionForm(FlaskForm):
    """The chair's decision on one agenda item, as each undecided item shows it on the meeting page:
    decision, note and a task number to link to (no task, partner or person is listed). ``item_id`` gives
    every field an id of that item's own (``item-<id>-<field>``), so labels, the error summary's links and
    typed text stay with their item when a page holds many forms; the names stay plain."""

    decision = RadioField("Decision", choices=[(k, v) for k, v in DECISIONS.items()],
                          validators=[DataRequired("Choose a decision")])
    note = TextAreaField("Note or reason", validators=[Optional(), Length(max=2000)],
                         description="Needed for no further action", render_kw={"rows": 3})
    link_task = StringField("Number of the task to link to", validators=[Optional(), Length(max=12)],
                            description="For “Link to an existing task”", render_kw={"inputmode": "numeric"})

    def __init__(self, *args, item_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        if item_id is not None:
            for field in self:
                field.id = f"item-{item_id}-{field.short_name}"


class DecisionForm(CompactDecisionForm):
    """The whole decision, on the item's own page: the compact form's fields and the task to create."""

    title = StringField("Task title", validators=[Optional(), Length(max=200)])
    # Needed only to create a task (the service refuses a missing or unknown one, naming this field).
    action = SelectField("Delivery-plan action", coerce=str, default="", validate_choice=False,
                         description="The action of the partnership's delivery plan the new task works towards")
    lead_organisation = SelectField("Lead partner", coerce=str, default="")
    supporting = CheckboxesField("Supporting partners", coerce=int)
    owner = SelectField("Owner", coerce=str, default="", description="A person in the lead partner's organisation")
    due_on = GovukDateField("Due date", format=DATE_FORMATS, validators=[Optional(), DateWithin(future=FIVE_YEARS)])
    priority = RadioField("Priority", choices=list(PRIORITIES), default="medium")
    on_item_page = HiddenField()  # "1" when sent from the item's own page: a refusal is shown there


class CorrectionForm(FlaskForm):
    text = TextAreaField("Correction", validators=[DataRequired("Write the correction"), Length(max=3000)])


class TaskFilterForm(FlaskForm):
    """The task list's filters (a GET search form: the dashboard's figures link to it)."""

    class Meta:
        csrf = False

    area = SelectField("Area", coerce=str, default="")
    lead = SelectField("Lead partner", coerce=str, default="")
    show = SelectField("Show", coerce=str, default="", choices=[("", "Every task")] + list(SHOW_LABELS.items()))
    completed_from = GovukDateField("Completed from", format=DATE_FORMATS,
                                    validators=[Optional(), DateWithin(future=None)])
    completed_to = GovukDateField("Completed to", format=DATE_FORMATS, validators=[Optional(), DateWithin(future=None)])

    def filters(self):
        """The TaskFilters of the fields that are valid (one with an error filters nothing)."""
        def value(field, read=lambda v: v):
            return None if field.errors or not field.data else read(field.data)

        return TaskFilters(area_id=value(self.area, parse_id), lead_organisation_id=value(self.lead, parse_id),
                           show=value(self.show) or "", completed_from=value(self.completed_from),
                           completed_to=value(self.completed_to))
