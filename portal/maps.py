"""What every folium map of the portal shares: where it opens, its texts made inert, its assets served
from static/vendor, and this response's script nonce (the residents' map and the assessment's map)."""
import re

from flask import url_for
from markupsafe import Markup, escape

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
    from . import csp_nonce

    return Markup(_INLINE_SCRIPT.sub(f'<script nonce="{csp_nonce()}">', str(fragment)))


# folium writes the head of a page of its own: a viewport that forbids pinch-zoom (user-scalable=no,
# maximum-scale=1), a second charset, and html/body rules (height: 100%, no margin) that end the white
# body one screen down, so the grey page background showed as a band under the map. base.html has the
# page's own head; in ours only the map's own style and folium's two globals are kept.
_PAGE_HEAD = re.compile(r"<meta name=\"viewport\"[^>]*>|<meta http-equiv=\"content-type\"[^>]*>"
                        r"|<style>\s*(html, body|#map) \{[^}]*\}\s*</style>", re.S)


def embed_parts(fmap):
    """{"header", "html", "script"}: the parts of a folium map to place in one of our pages."""
    root = fmap.get_root()
    root.render()
    return {"header": Markup(_PAGE_HEAD.sub("", root.header.render())), "html": Markup(root.html.render()),
            "script": Markup(root.script.render())}


def local_assets():
    """folium's CDN URLs replaced by the copies in static/vendor (the map works offline)."""
    static = lambda path: url_for("static", filename=path)  # noqa: E731
    js = [("leaflet", static("vendor/leaflet/leaflet.js")), ("jquery", static("vendor/jquery/jquery.min.js"))]
    css = [("leaflet_css", static("vendor/leaflet/leaflet.css"))]
    return js, css
