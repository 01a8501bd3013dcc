"""The residents' map, built with folium but served entirely from our own static files.

folium draws the map, the tiles and the ward boundaries; the markers come
from /api/map-points.json through static/js/public-map.js, so the page stays
small however many concerns are published (see bench/bench_public_map.py).
"""
import json

import folium

from ..maps import SHROPSHIRE_CENTRE, embed_parts, local_assets, map_text
from .services import ward_boundaries


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
    return {**embed_parts(fmap), "name": fmap.get_name()}
