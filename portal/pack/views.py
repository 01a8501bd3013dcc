"""The monthly PMCG pack: the draft page, the analysts' commentary, issuing, and the issued PDFs."""
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..access import ADMIN, ANALYST, OFFICER, allow
from ..extensions import db
from ..forms import form_page, render_form
from ..indicators import engine
from ..plan.models import IndicatorDefinition
from . import services
from .forms import CommentaryForm, IssueForm
from .policy import may_write

bp = Blueprint("pack", __name__, url_prefix="/pack")


def _month(text):
    """The month in the address ("2018-11"): 404 unless it has indicator values."""
    month = services.parse_month(text)
    if month is None or month not in {m for m, _ in services.months_available()}:
        abort(404)
    return month


def _draft_context(month):
    refreshing = engine.refresh_portal_figures()  # as the PMCG report does
    return dict(pack=services.pack_contents(month), links=True, can_write=may_write(current_user),
                refreshing=refreshing)


@bp.route("/")
@allow(ANALYST, ADMIN, OFFICER)
def index():
    return render_template("pack/index.html", months=services.months_available(), packs=services.issued_packs(),
                           can_write=may_write(current_user))


@bp.route("/<month>")
@allow(ANALYST, ADMIN, OFFICER)
def draft(month):
    return render_template("pack/page.html", form=IssueForm(), **_draft_context(_month(month)))


@bp.route("/<month>/issue", methods=["POST"])
@allow(ANALYST, ADMIN)
def issue(month):
    chosen = _month(month)
    form = IssueForm()
    if form.validate_on_submit():
        # An issued pack is a record: what the analyst checked is what is issued, so stale figures are
        # brought up to date and shown first (before the page's own refresh could hand them to a worker).
        if engine.bring_portal_figures_up_to_date():
            db.session.commit()
            flash("The portal's own figures changed since this page was drawn and are up to date now: "
                  "check them, then issue the pack.", "warning")
            return redirect(url_for("pack.draft", month=f"{chosen:%Y-%m}"))
        form_page("pack/page.html", form, **_draft_context(chosen))
        pack = services.issue_pack(by=current_user, month=chosen)
        db.session.commit()
        flash(f"The pack for {chosen:%B %Y} is issued; the distribution list will be sent a link.", "success")
        return redirect(url_for("pack.draft", month=f"{pack.month:%Y-%m}"))
    return render_form("pack/page.html", form, **_draft_context(chosen))


@bp.route("/<month>/commentary/<code>", methods=["GET", "POST"])
@allow(ANALYST, ADMIN)
def commentary(month, code):
    chosen = _month(month)
    indicator = db.session.execute(select(IndicatorDefinition).where(
        IndicatorDefinition.code == code)).scalar_one_or_none() or abort(404)
    places = services.pack_localities()
    form = CommentaryForm()
    form.locality.choices = [("", "Choose where")] + [(loc.key, f"{loc.name} ({loc.level_label.lower()})")
                                                      for loc in places]
    if request.method == "GET":
        wanted = next((loc for loc in places if loc.key == request.args.get("locality")), None)
        if wanted is not None:
            form.locality.data = wanted.key
            latest = services.latest_commentary(chosen).get((indicator.id, wanted.id))
            form.text.data = latest.text if latest else ""
    page = dict(indicator=indicator, month=chosen, history=services.commentary_history(indicator.id, chosen),
                issued=services.issued_pack(chosen))
    if form_page("pack/commentary.html", form, **page).validate_on_submit():
        place = next((loc for loc in places if loc.key == form.locality.data), None)
        services.write_commentary(by=current_user, indicator_id=indicator.id, locality_id=place.id if place else None,
                                  month=chosen, text=form.text.data)
        db.session.commit()
        flash(f"Saved the commentary on {indicator.name} in {place.name}.", "success")
        return redirect(url_for("pack.draft", month=f"{chosen:%Y-%m}", _anchor=f"indicator-{indicator.code}"))
    return render_form("pack/commentary.html", form, **page)


@bp.route("/issued/<int:pack_id>.pdf")
@allow(ANALYST, ADMIN, OFFICER)
def download(pack_id):
    pack = services.issued_pdf(pack_id, by=current_user) or abort(404)
    return Response(pack.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="pmcg-pack-{pack.month:%Y-%m}.pdf"',
        "ETag": f'"{pack.sha256}"'})
