"""The strategic assessment's map: recorded crime per 1,000 residents by ward (folium choropleth)."""
import folium

from ..maps import SHROPSHIRE_CENTRE, embed_parts, local_assets, map_text

COLOURS = ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"]


def rate_map(ranked, config):
    fmap = folium.Map(location=SHROPSHIRE_CENTRE, zoom_start=9, tiles=None, maxZoom=18)
    fmap.default_js, fmap.default_css = local_assets()
    if config.get("TILE_URL"):
        folium.TileLayer(tiles=config["TILE_URL"], attr=config.get("TILE_ATTRIBUTION") or "Map tiles",
                         max_zoom=18).add_to(fmap)
    rates = sorted(r["rate"] for r in ranked) or [0]
    bands = [rates[min(len(rates) - 1, int(len(rates) * q))] for q in (0.2, 0.4, 0.6, 0.8)]

    def colour(rate):
        return COLOURS[sum(rate > b for b in bands)]

    for row in ranked:
        loc = row["locality"]
        tip = map_text(f"{loc.name}: {row['rate']:.1f} crimes per 1,000 a year ({row['crimes']} recorded)")
        if loc.boundary:
            folium.GeoJson({"type": "Feature", "geometry": loc.boundary, "properties": {}},
                           style_function=lambda _, c=colour(row["rate"]): {"fillColor": c, "color": "#505a5f",  # noqa: B008 binds this row's colour
                                                                             "weight": 1, "fillOpacity": 0.75},
                           tooltip=tip).add_to(fmap)
        elif loc.centre_lat is not None:
            folium.CircleMarker([loc.centre_lat, loc.centre_lon], radius=8, fill=True, color="#505a5f",
                                fill_color=colour(row["rate"]), fill_opacity=0.8, tooltip=tip).add_to(fmap)
    return {**embed_parts(fmap),
            "legend": [(COLOURS[i], (bands[i - 1] if i else 0), (bands[i] if i < len(bands) else None))
                       for i in range(len(COLOURS))]}
