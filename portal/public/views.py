"""Public pages and open data: no account needed, public fields only (see services.public_record).

Every view here is HTTP-cached for anonymous visitors, and what all visitors share is built once
per data version (caching.py).
"""
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from markupsafe import Markup
from sqlalchemy import select, text

from .. import spreadsheets
from ..access import PUBLIC, allow
from ..concerns.models import ConcernCategory
from ..crime.stats import headline_crime
from ..extensions import db
from ..forms import int_or_none, page_number
from ..places.models import Locality, descendant_ids
from ..places.services import areas
from . import caching, maps, open311, services
from .caching import http_cached
from .forms import PublicFilterForm

bp = Blueprint("public", __name__)
PER_PAGE = services.PER_PAGE


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
    return {k: v for k, v in request.args.items()
            if k in ("q", "area", "category", "date_from", "date_to", "status") and v}


def shared_json(name, build, *key_parts):
    """A JSON body everyone shares: ``build()`` gives the data, or None for a 404 (remembered as well)."""
    def body():
        data = build()
        return "" if data is None else current_app.json.dumps(data)

    text = caching.shared(name, body, *key_parts)
    if not text:
        abort(404)
    return text


@bp.route("/")
@allow(PUBLIC)
@http_cached
def home():
    return render_template("public/home.html", form=filter_form(), areas=areas(),
                           total=caching.shared("home-total", services.count_published))


@bp.route("/map")
@allow(PUBLIC)
@http_cached
def map_page():
    # The shared part is looked up before anything else: a busy day's map costs no query at all.
    def build():
        form = filter_form()
        f = filters_from(form)
        map_parts = maps.public_map(current_app.config)
        return {
            "map_parts": map_parts,
            "body": Markup(render_template(
                "public/_map_body.html", form=form, map_parts=map_parts,
                points_url=url_for("public.map_points", **public_args()), total=services.count_published(f),
                list_url=url_for("public.you_said_we_did", **public_args()))),
        }

    shared = caching.shared("map", build, sorted(public_args().items()))
    return render_template("public/map.html", map_parts=shared["map_parts"], body=shared["body"])


@bp.route("/api/map-points.json")
@allow(PUBLIC)
@http_cached
def map_points():
    body = shared_json("map-points", lambda: {"points": services.map_points(filters_from(filter_form()))},
                       sorted(public_args().items()))
    return Response(body, mimetype="application/json")


@bp.route("/api/concerns/<int:concern_id>.json")
@allow(PUBLIC)
@http_cached
def concern_json(concern_id):
    def build():
        concern = services.published_concern(concern_id)
        return services.public_record(concern) if concern is not None else None

    return Response(shared_json("concern", build, concern_id), mimetype="application/json")


@bp.route("/you-said-we-did")
@allow(PUBLIC)
@http_cached
def you_said_we_did():
    args, page_no, position = public_args(), page_number(), services.list_position(request.args, page_number())

    def build():
        form = filter_form()
        f = filters_from(form)
        page = services.published_page(f, page_no, PER_PAGE, **position)
        records = [services.public_record(c) for c in page.items]
        matches = services.find_localities(form.q.data) if form.q.data else []
        return Markup(render_template(
            "public/_list_body.html", form=form, page=page, records=records, matches=matches,
            page_url=lambda n: url_for("public.you_said_we_did", **page.link_args(n), **args),
            map_url=url_for("public.map_page", **args)))

    return render_template("public/list.html", body=caching.shared("list", build, sorted(args.items()), page_no,
                                                                   sorted(position.items())))


@bp.route("/places/<key>")
@allow(PUBLIC)
@http_cached
def locality(key):
    loc = db.session.execute(select(Locality).where(Locality.key == key, Locality.active)).scalar_one_or_none()
    if loc is None:
        abort(404)
    page_no, position = page_number(), services.list_position(request.args, page_number())

    def build():
        below = list(db.session.execute(descendant_ids(loc.id)).scalars())
        page = services.published_page(services.PublicFilters(locality_ids=below), page_no, PER_PAGE, **position)
        info = services.locality_page(loc)
        return {name: Markup(render_template(
            f"public/_locality_{name}.html", locality=loc, info=info, page=page,
            records=[services.public_record(c) for c in page.items],
            page_url=lambda n: url_for("public.locality", key=key, **page.link_args(n))))
            for name in ("records", "meeting")}

    # The crime headlines are another feature's figures, outside our data version: drawn each time.
    parts = caching.shared("locality", build, key, page_no, sorted(position.items()))
    return render_template("public/locality.html", locality=loc, parts=parts, headlines=headline_crime(loc))


# ---- open data -----------------------------------------------------------------------------------

@bp.route("/api/neighbourhoods/<key>/priorities.json")
@allow(PUBLIC)
@http_cached
def neighbourhood_priorities(key):
    """The police.uk neighbourhood priorities shape: issue, issue-date, action, action-date."""
    def build():
        loc = db.session.execute(select(Locality).where(Locality.key == key)).scalar_one_or_none()
        if loc is None:
            return None
        below = list(db.session.execute(descendant_ids(loc.id)).scalars())
        records = services.public_records(services.PublicFilters(locality_ids=below))
        return [{"issue": r["you_said"], "issue-date": r["raised_on"],
                 "action": r["we_did"] or r["reason"] or None,
                 "action-date": r["responded_on"] or r["decided_on"]} for r in records]

    return Response(shared_json("priorities", build, key), mimetype="application/json")


@bp.route("/api/concerns.geojson")
@allow(PUBLIC)
@http_cached
def concerns_geojson():
    refuse_bad_filters()
    def build():
        records = services.public_records(filters_from(filter_form()))
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": r["id"], "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
             "properties": {k: v for k, v in r.items() if k not in ("lat", "lon")}} for r in records]}

    return Response(shared_json("geojson", build, sorted(public_args().items())), mimetype="application/geo+json")


CSV_FIELDS = ("id", "raised_on", "area", "locality", "category", "status_label", "you_said", "we_did",
              "responded_on", "reason", "decided_on", "residents", "priority", "lat", "lon")


@bp.route("/api/concerns.csv")
@allow(PUBLIC)
@http_cached
def concerns_csv():
    refuse_bad_filters()

    def build():  # read and written in batches: any size starts at once, in constant memory
        records = services.public_records_streamed(filters_from(filter_form()))
        return spreadsheets.streamed(CSV_FIELDS, ([r[name] for name in CSV_FIELDS] for r in records))

    etag, body = caching.shared_stream("csv", build, sorted(public_args().items()))
    response = Response(stream_with_context(body), mimetype="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="you-said-we-did.csv"'})
    response.set_etag(etag, weak=True)
    return response


@bp.route("/api/openapi.json")
@allow(PUBLIC)
@http_cached
def openapi():
    from .openapi import document

    return jsonify(document(current_app.config["PUBLIC_BASE_URL"] or "/"))


@bp.route("/open-data")
@allow(PUBLIC)
@http_cached
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
@http_cached
def open311_services():
    return jsonify(open311.services())


OPEN311_ARGS = ("service_code", "start_date", "end_date", "status")


@bp.route("/open311/v2/requests.json")
@allow(PUBLIC)
@http_cached
def open311_requests():
    args = {k: v for k, v in request.args.items() if k in OPEN311_ARGS}
    try:
        body = shared_json("open311-requests", lambda: open311.requests(args), sorted(args.items()))
    except ValueError as error:  # raised while building, so never cached
        return jsonify([{"code": 400, "description": str(error)}]), 400
    return Response(body, mimetype="application/json")


@bp.route("/open311/v2/requests/<int:concern_id>.json")
@allow(PUBLIC)
@http_cached
def open311_request(concern_id):
    found = caching.shared("open311-request", lambda: open311.request_by_id(concern_id) or False, concern_id)
    if not found:
        return jsonify([{"code": 404, "description": f"no published request {concern_id}"}]), 404
    return jsonify([found])
