from wtforms import SelectField
from wtforms.validators import DataRequired


def action_field(label="Delivery-plan action"):
    """A required select of the current plan's actions, grouped by theme (choices from
    services.action_choices). Any id is accepted here: the service refuses one that is not an action of
    the current plan, with a message naming the field."""
    return SelectField(label, coerce=str, default="", validate_choice=False,
                       validators=[DataRequired("Choose the delivery-plan action the task serves")],
                       description="The action of the partnership's delivery plan this task works towards")
