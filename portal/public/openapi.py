"""The OpenAPI 3.1 description of the public open-data endpoints (served at /api/openapi.json).

3.1 because its schemas are JSON Schema, which is what pydantic writes for PublicConcern.
"""
from .record import public_concern_schema

# From the model that shapes every public record (record.py), so the two cannot drift apart.
PUBLIC_CONCERN = public_concern_schema()

FILTERS = [
    {"name": "area", "in": "query", "schema": {"type": "string", "enum": ["north", "central", "south"]}},
    {"name": "category", "in": "query", "schema": {"type": "integer"}, "description": "A category id"},
    {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "Town or village name"},
    {"name": "date_from", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "date_to", "in": "query", "schema": {"type": "string", "format": "date"}},
]


def _get(summary, description, content, parameters=(), not_found=False, bad_request=False):
    responses = {"200": {"description": summary, "content": content}}
    if bad_request:
        responses["400"] = {"description": "A filter could not be read (the reason is in the body)",
                            "content": {"application/json": {"schema": {"type": "object"}}}}
    if not_found:
        responses["404"] = {"description": "Not found, or not published"}
    return {"get": {"summary": summary, "description": description, "parameters": list(parameters),
                    "responses": responses}}


def document(server):
    key = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"},
           "description": "A locality key, like ludlow or north"}
    ident = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Shropshire community safety: You said, we did", "version": "1",
                 "description": "Published concerns raised by residents and what the partnership did. "
                                "Open data; no personal data, internal notes or exact locations.",
                 "license": {"name": "Open Government Licence v3.0",
                             "url": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"}},
        "servers": [{"url": server}],
        "paths": {
            "/api/neighbourhoods/{key}/priorities.json": _get(
                "Neighbourhood priorities", "In the police.uk neighbourhood priorities shape. action is the 'We did', "
                "or the reason for no further action or for passing it to the county (Silver) group.",
                {"application/json": {"schema": {"type": "array", "items": {"type": "object", "properties": {
                    "issue": {"type": "string"}, "issue-date": {"type": "string", "format": "date"},
                    "action": {"type": ["string", "null"]},
                    "action-date": {"type": ["string", "null"], "format": "date"}}}}}},
                [key], not_found=True),
            "/api/concerns.geojson": _get(
                "Published concerns as GeoJSON", "A FeatureCollection of points at locality centres.",
                {"application/geo+json": {"schema": {"type": "object"}}}, FILTERS, bad_request=True),
            "/api/concerns.csv": _get("Published concerns as CSV", "The same records as a CSV file.",
                                      {"text/csv": {"schema": {"type": "string"}}}, FILTERS, bad_request=True),
            "/api/concerns/{id}.json": _get("One published concern", "",
                                            {"application/json": {"schema": PUBLIC_CONCERN}},
                                            [ident], not_found=True),
            "/api/map-points.json": _get(
                "Map markers", "Concern ids and public statuses grouped by point: [[lat, lon, [[id, status]...]]]. "
                "A status is one of PublicConcern's: raised, in_hand, responded, no_further_action, escalated.",
                {"application/json": {"schema": {"type": "object"}}}, FILTERS),
            "/open311/v2/services.json": _get("Open311 GeoReport v2 service list", "Concern categories.",
                                              {"application/json": {"schema": {"type": "array"}}}),
            "/open311/v2/requests.json": _get(
                "Open311 GeoReport v2 requests", "Published concerns as service requests (up to 1,000). closed: "
                "responded or no further action; open: raised, in hand or passed to the county (Silver) group. "
                "status_notes holds the 'We did' and the reason residents are given.",
                {"application/json": {"schema": {"type": "array"}}},
                [{"name": "service_code", "in": "query", "schema": {"type": "string"}},
                 {"name": "start_date", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                 {"name": "end_date", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                 {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["open", "closed"]}}],
                bad_request=True),
            "/open311/v2/requests/{id}.json": _get("One Open311 request", "",
                                                   {"application/json": {"schema": {"type": "array"}}},
                                                   [ident], not_found=True),
        },
    }
