"""The residents' map, built with folium but served entirely from our own static files.

folium draws the map, the tiles and the ward boundaries; the markers come
from /api/map-points.json through static/js/public-map.js, so the page stays
small however many concerns are published (see bench/bench_public_map.py).
"""
import json
import re

import folium
from flask import url_for
from markupsafe import Markup, escape

from .services import ward_boundaries

SHROPSHIRE_CENTRE = (52.70, -2.73)

# folium renders each element's script and branca then renders that output again as a Jinja
# template (MacroElement wraps it in Element(template=...)), so a "{{" in our data would run in the
# web process. Tooltips put their text in a JS template literal and popups and GeoJSON tooltips set
# innerHTML. So every text of ours is HTML-escaped, and the characters those contexts act on are
# written as character references, which the browser shows as the characters themselves.
_INERT = str.maketrans({"{": "&#123;", "}": "&#125;", "`": "&#96;", "$": "&#36;", "\\": "&#92;"})


def map_text(value):
    """``value`` made safe for any text a folium map shows (tooltips, popups, GeoJSON properties)."""
    return str(escape(str(value))).translate(_INERT)


_INLINE_SCRIPT = re.compile(r"<script>")


def with_csp_nonce(fragment):
    """A folium part (its header sets two globals in an inline script) with this response's script nonce.

    Only for folium's own output, whose texts map_text() has escaped (no "<script>" can come from data);
    applied when the page is rendered, so a cached map never carries an old nonce.
    """
    from .. import csp_nonce

    return Markup(_INLINE_SCRIPT.sub(f'<script nonce="{csp_nonce()}">', str(fragment)))


def local_assets():
    """folium's CDN URLs replaced by the copies in static/vendor (the map works offline)."""
    static = lambda path: url_for("static", filename=path)  # noqa: E731
    js = [("leaflet", static("vendor/leaflet/leaflet.js")), ("jquery", static("vendor/jquery/jquery.min.js"))]
    css = [("leaflet_css", static("vendor/leaflet/leaflet.css"))]
    return js, css


def public_map(config):
    """{"header", "html", "script", "name"}: the parts of a folium map to embed in our page."""
    fmap = folium.Map(location=SHROPSHIRE_CENTRE, zoom_start=9, tiles=None, maxZoom=18,
                      control_scale=True, prefer_canvas=False)
    fmap.default_js, fmap.default_css = local_assets()
    if config.get("TILE_URL"):
        folium.TileLayer(tiles=config["TILE_URL"], attr=config.get("TILE_ATTRIBUTION") or "Map tiles",
                         name="Map", max_zoom=18).add_to(fmap)
    wards = json.loads(ward_boundaries())
    for feature in wards["features"]:
        feature["properties"] = {"name": map_text(feature["properties"]["name"])}
    folium.GeoJson(
        wards, name="Ward boundaries",
        style_function=lambda feature: {"color": "#505a5f", "weight": 1, "fillOpacity": 0.03},
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
    ).add_to(fmap)
    root = fmap.get_root()
    root.render()
    return {
        "header": Markup(root.header.render()),
        "html": Markup(root.html.render()),
        "script": Markup(root.script.render()),
        "name": fmap.get_name(),
    }
