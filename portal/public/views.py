"""Public pages and open data: no account needed, public fields only (see services.public_record)."""
import io
import time

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select, text

from .. import spreadsheets
from ..access import PUBLIC, allow
from ..concerns.models import ConcernCategory
from ..extensions import db
from ..forms import int_or_none, page_number
from ..places.models import Locality, descendant_ids
from ..places.services import areas
from . import maps, open311, services
from .forms import PublicFilterForm

bp = Blueprint("public", __name__)
PER_PAGE = 20


def page_cache():
    """What every visitor of a public page shares (the map's body and data), per app, so tests with other
    databases never share it. Never a whole page: the header carries the signed-in user's name, menu and
    sign-out form (with its CSRF token), so the layout is rendered for each request."""
    return current_app.extensions.setdefault("public_page_cache", services.TimedCache(seconds=300))


def data_version():
    """The published data's version, looked up at most every PUBLIC_CACHE_SECONDS per process.

    So a change reaches the public pages within that many seconds, and a busy map
    page costs no database query at all in between.
    """
    ttl = current_app.config.get("PUBLIC_CACHE_SECONDS", 5)
    state = current_app.extensions.setdefault("public_data_version", {"value": None, "checked": 0.0})
    now = time.monotonic()
    if state["value"] is None or now - state["checked"] >= ttl:
        state["value"], state["checked"] = services.data_version(), now
    return state["value"]


def filter_form():
    form = PublicFilterForm(request.args)
    form.area.choices = [("", "All of Shropshire")] + [(a.key, a.name) for a in areas()]
    cats = db.session.execute(select(ConcernCategory).order_by(ConcernCategory.group, ConcernCategory.name)).scalars()
    form.category.choices = [("", "Any concern")] + [(str(c.id), c.name.capitalize()) for c in cats]
    form.validate()
    return form


def filters_from(form):
    area = next((a for a in areas() if a.key == form.area.data), None)
    locality_ids = None
    if form.q.data:
        found = services.find_localities(form.q.data)
        locality_ids = sorted({i for loc in found for i in db.session.execute(descendant_ids(loc.id)).scalars()})
    return services.PublicFilters(
        area_id=area.id if area else None, locality_ids=locality_ids,
        category_id=None if form.category.errors else int_or_none(form.category.data),
        date_from=form.date_from.data if not form.date_from.errors else None,
        date_to=form.date_to.data if not form.date_to.errors else None,
        status=request.args.get("status") or None)


def refuse_bad_filters():
    """Open data answers a filter it cannot read with 400 and the reason, rather than ignoring it."""
    form = filter_form()
    if form.errors:
        response = jsonify({"code": 400, "errors": {name: messages for name, messages in form.errors.items()}})
        response.status_code = 400
        abort(response)


def public_args():
    return {k: v for k, v in request.args.items() if k in ("q", "area", "category", "date_from", "date_to", "status") and v}


@bp.route("/")
@allow(PUBLIC)
def home():
    return render_template("public/home.html", form=filter_form(), areas=areas(),
                           total=services.count_published())


@bp.route("/map")
@allow(PUBLIC)
def map_page():
    # The cache is looked up before anything else: a busy day's map costs no query at all.
    key = ("map", tuple(sorted(public_args().items())), data_version())
    shared = page_cache().get(key)
    if shared is None:
        form = filter_form()
        f = filters_from(form)
        map_parts = maps.public_map(current_app.config)
        shared = page_cache().put(key, {
            "map_parts": map_parts,
            "body": Markup(render_template(
                "public/_map_body.html", form=form, map_parts=map_parts,
                points_url=url_for("public.map_points", **public_args()), total=services.count_published(f),
                list_url=url_for("public.you_said_we_did", **public_args()))),
        })
    return render_template("public/map.html", map_parts=shared["map_parts"], body=shared["body"])


@bp.route("/api/map-points.json")
@allow(PUBLIC)
def map_points():
    key = ("points", tuple(sorted(public_args().items())), data_version())  # before any query, as above
    body = page_cache().get(key)
    if body is None:
        body = page_cache().put(key, current_app.json.dumps(
            {"points": services.map_points(filters_from(filter_form()))}))
    return Response(body, mimetype="application/json")


@bp.route("/api/concerns/<int:concern_id>.json")
@allow(PUBLIC)
def concern_json(concern_id):
    concern = services.published_concern(concern_id)
    if concern is None:
        abort(404)
    return jsonify(services.public_record(concern))


@bp.route("/you-said-we-did")
@allow(PUBLIC)
def you_said_we_did():
    form = filter_form()
    f = filters_from(form)
    page = db.paginate(services.with_public_relations(services.published_query(f)), page=page_number(),
                       per_page=PER_PAGE, error_out=False)
    records = [services.public_record(c) for c in page.items]
    args = public_args()
    matches = services.find_localities(form.q.data) if form.q.data else []
    return render_template("public/list.html", form=form, page=page, records=records, matches=matches,
                           page_url=lambda n: url_for("public.you_said_we_did", page=n, **args),
                           map_url=url_for("public.map_page", **args))


@bp.route("/places/<key>")
@allow(PUBLIC)
def locality(key):
    loc = db.session.execute(select(Locality).where(Locality.key == key, Locality.active)).scalar_one_or_none()
    if loc is None:
        abort(404)
    below = list(db.session.execute(descendant_ids(loc.id)).scalars())
    f = services.PublicFilters(locality_ids=below)
    page = db.paginate(services.with_public_relations(services.published_query(f)), page=page_number(),
                       per_page=PER_PAGE, error_out=False)
    return render_template("public/locality.html", locality=loc, info=services.locality_page(loc),
                           records=[services.public_record(c) for c in page.items], page=page,
                           page_url=lambda n: url_for("public.locality", key=key, page=n),
                           headlines=headline_indicators(loc))


# Other features (the indicators) add (locality -> list of dicts) providers here.
HEADLINE_PROVIDERS = []


def headline_indicators(loc):
    return [row for provider in HEADLINE_PROVIDERS for row in provider(loc)]


# ---- open data -----------------------------------------------------------------------------------

@bp.route("/api/neighbourhoods/<key>/priorities.json")
@allow(PUBLIC)
def neighbourhood_priorities(key):
    """The police.uk neighbourhood priorities shape: issue, issue-date, action, action-date."""
    loc = db.session.execute(select(Locality).where(Locality.key == key)).scalar_one_or_none()
    if loc is None:
        abort(404)
    below = list(db.session.execute(descendant_ids(loc.id)).scalars())
    records = services.public_records(services.PublicFilters(locality_ids=below))
    return jsonify([{"issue": r["you_said"], "issue-date": r["raised_on"],
                     "action": r["we_did"] or None, "action-date": r["responded_on"]} for r in records])


@bp.route("/api/concerns.geojson")
@allow(PUBLIC)
def concerns_geojson():
    refuse_bad_filters()
    records = services.public_records(filters_from(filter_form()))
    features = [{"type": "Feature", "id": r["id"],
                 "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                 "properties": {k: v for k, v in r.items() if k not in ("lat", "lon")}} for r in records]
    return Response(current_app.json.dumps({"type": "FeatureCollection", "features": features}),
                    mimetype="application/geo+json")


CSV_FIELDS = ("id", "raised_on", "area", "locality", "category", "status_label", "you_said", "we_did",
              "responded_on", "residents", "priority", "lat", "lon")


@bp.route("/api/concerns.csv")
@allow(PUBLIC)
def concerns_csv():
    refuse_bad_filters()
    buffer = io.StringIO()
    writer = spreadsheets.DictWriter(buffer, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(services.public_records(filters_from(filter_form())))
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="you-said-we-did.csv"'})


@bp.route("/api/openapi.json")
@allow(PUBLIC)
def openapi():
    from .openapi import document

    return jsonify(document(current_app.config["PUBLIC_BASE_URL"] or "/"))


@bp.route("/open-data")
@allow(PUBLIC)
def open_data():
    from .openapi import document

    return render_template("public/open_data.html", doc=document(current_app.config["PUBLIC_BASE_URL"] or "/"))


@bp.route("/healthz")
@allow(PUBLIC)
def healthz():
    db.session.execute(text("select 1"))
    return {"status": "ok"}


# ---- Open311 GeoReport v2 (read only) ---------------------------------------------------------------

@bp.route("/open311/v2/services.json")
@allow(PUBLIC)
def open311_services():
    return jsonify(open311.services())


@bp.route("/open311/v2/requests.json")
@allow(PUBLIC)
def open311_requests():
    try:
        return jsonify(open311.requests(request.args))
    except ValueError as error:
        return jsonify([{"code": 400, "description": str(error)}]), 400


@bp.route("/open311/v2/requests/<int:concern_id>.json")
@allow(PUBLIC)
def open311_request(concern_id):
    found = open311.request_by_id(concern_id)
    if found is None:
        return jsonify([{"code": 404, "description": f"no published request {concern_id}"}]), 404
    return jsonify([found])
