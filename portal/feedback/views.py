""""Has this made a difference?": each published "We did" has a page of its own where residents answer
(the lists, the map popup and the email digest link to it), and officers moderate the comments.

Why a page of its own: the lists and the locality page are shared by every visitor (public/caching.py),
so they cannot carry a CSRF token or this browser's answer. Their question is a GET form with three
buttons that opens this page with the answer chosen; this page is drawn for each visitor (never stored:
it is not the public blueprint's), carries the token, takes the optional comment, and on sending returns
the resident to the item where they were (``#concern-<id>``), with a confirmation. No JavaScript needed.
"""
from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import ADMIN, OFFICER, PUBLIC, allow, require
from ..extensions import db, limiter
from ..forms import form_page
from ..people.views import safe_next
from . import browsers, services
from .forms import AnswerForm, ModerateForm, RedactCommentForm
from .models import ANSWERS, FeedbackAnswer
from .policy import can_moderate

bp = Blueprint("feedback", __name__)


def _back_to(concern_id, target):
    """Where the resident came from (a same-site path only), at the item; else the item's page."""
    target = safe_next(target)
    if not target:
        return url_for("feedback.answer_page", concern_id=concern_id)
    return target.split("#")[0] + f"#concern-{concern_id}"


@bp.route("/you-said-we-did/<int:concern_id>/made-a-difference", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(lambda: current_app.config["FEEDBACK_RATE_LIMIT"], methods=["POST"])
def answer_page(concern_id):
    record = services.answerable(concern_id)
    if record is None:
        abort(404)
    ident = browsers.browser_id()
    earlier = services.answer_of(concern_id, ident)
    form = AnswerForm()
    if request.method == "GET":
        chosen = request.args.get("answer")
        form.answer.data = chosen if chosen in ANSWERS else (earlier.answer if earlier else None)
        form.comment.data = earlier.comment if earlier and not request.args.get("answer") else ""
        form.next.data = safe_next(request.args.get("next")) or ""
    context = dict(record=record, earlier=earlier,
                   back=safe_next(form.next.data or request.args.get("next")) or url_for("public.you_said_we_did"))
    if form.validate_on_submit():
        form_page("feedback/answer.html", form, **context)
        ident = ident or browsers.new_browser_id()
        row, replaced = services.record_answer(concern_id, browser_id=ident, answer=form.answer.data,
                                               comment=form.comment.data)
        db.session.commit()
        message = "Thank you: your answer was recorded" + (", in place of your earlier one" if replaced else "")
        if row.comment:
            message += ". An officer reads your comment before it is shown on this site."
        flash(message, "success")
        return browsers.remember(redirect(_back_to(concern_id, form.next.data), 303), ident)
    status = 400 if form.errors else 200
    return make_response(render_template("feedback/answer.html", form=form, **context), status)


# ---- officers: approve, reject, redact -------------------------------------------------------------------

def _moderatable(answer_id):
    answer = db.get_or_404(FeedbackAnswer, answer_id)
    require(can_moderate(current_user, answer))
    return answer


def _back_to_staff_page(answer, target):
    return safe_next(target) or url_for("concerns.show", concern_id=answer.concern_id)


def _decide(answer_id, decide, message):
    answer = _moderatable(answer_id)
    form = ModerateForm()
    if not form.validate_on_submit():
        abort(400)
    decide(answer, by=current_user)
    db.session.commit()
    flash(message, "success")
    return redirect(_back_to_staff_page(answer, form.next.data) + f"#comment-{answer.id}")


@bp.route("/feedback/comments/<int:answer_id>/approve", methods=["POST"])
@allow(OFFICER, ADMIN)
def approve(answer_id):
    return _decide(answer_id, services.approve,
                   "Comment approved: residents see it under the response within a few seconds")


@bp.route("/feedback/comments/<int:answer_id>/reject", methods=["POST"])
@allow(OFFICER, ADMIN)
def reject(answer_id):
    return _decide(answer_id, services.reject, "Comment rejected: it is never shown to residents")


@bp.route("/feedback/comments/<int:answer_id>/redact", methods=["GET", "POST"])
@allow(OFFICER, ADMIN)
def redact(answer_id):
    answer = _moderatable(answer_id)
    form = RedactCommentForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    if form.validate_on_submit():
        form_page("feedback/redact.html", form, answer=answer, back=_back_to_staff_page(answer, form.next.data))
        services.redact_comment(answer, by=current_user, text=form.text.data)
        db.session.commit()
        flash("The words were removed from the comment", "success")
        return redirect(_back_to_staff_page(answer, form.next.data) + f"#comment-{answer.id}")
    return render_template("feedback/redact.html", form=form, answer=answer,
                           back=_back_to_staff_page(answer, form.next.data)), 400 if form.errors else 200
