"""The two folium maps: hostile texts stay text, and both draw under a script policy without 'unsafe-inline'."""
from datetime import date

from sqlalchemy import select

from portal.concerns.models import Concern, ConcernCategory
from portal.extensions import db
from portal.places.models import Locality

from ..public.test_public import ASSESSMENT, HOSTILE_NAME
from .conftest import open_a_popup, shot, sign_in

OPEN_EVERY_TOOLTIP = """() => {
  // Hover every shape of the folium map, as a resident moving the mouse over each ward would.
  const map = window[document.querySelector('.folium-map').id];
  const texts = [];
  let images = 0;
  map.eachLayer(layer => {
    if (!(layer.feature || layer.getTooltip && layer.getTooltip()) || !layer.getBounds && !layer.getLatLng) return;
    const at = layer.getBounds ? layer.getBounds().getCenter() : layer.getLatLng();
    layer.fire('mouseover', {latlng: at, layer: layer}, true);
    document.querySelectorAll('.leaflet-tooltip').forEach(tip => {
      texts.push(tip.textContent.replace(/\\s+/g, ' ').trim());
      images += tip.querySelectorAll('img').length;
    });
    layer.fire('mouseout', {latlng: at, layer: layer}, true);
  });
  return {texts: texts, images: images};
}"""


def test_a_hostile_locality_name_and_concern_text_show_literally_on_every_map(app, live_server, page):
    ward = db.session.execute(select(Locality).filter_by(key="e05008180")).scalar_one()
    ward.name = HOSTILE_NAME
    db.session.add(Concern(locality=ward, category=db.session.execute(select(ConcernCategory).filter_by(
        name="ENVIRONMENTAL - GRAFFITI")).scalar_one(), source="pact", raised_on=date(2010, 3, 12),
        you_said="Tag says {{7*7}} <img src=x onerror=alert(1)>", status="responded",
        we_did="Removed ${6*7} <b>tags</b>", responded_on=date(2010, 3, 20), published=True))
    db.session.commit()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(f"{live_server}/map?q=Quarry")
    page.wait_for_function("() => document.getElementById('public-map').dataset.markers !== undefined")
    hovered = page.evaluate(OPEN_EVERY_TOOLTIP)
    assert HOSTILE_NAME in hovered["texts"], [t for t in hovered["texts"] if "Quarry" in t]
    assert hovered["images"] == 0
    popup = open_a_popup(page)
    assert "Tag says {{7*7}} <img src=x onerror=alert(1)>" in popup and "Removed ${6*7} <b>tags</b>" in popup
    assert page.locator(".portal-popup img, .portal-popup b").count() == 0

    sign_in(page, live_server, "officer")
    page.goto(live_server + ASSESSMENT)
    page.wait_for_selector(".folium-map")
    hovered = page.evaluate(OPEN_EVERY_TOOLTIP)
    assert any(t.startswith(HOSTILE_NAME + ": ") for t in hovered["texts"]), \
        [t for t in hovered["texts"] if "Quarry" in t]
    assert hovered["images"] == 0
    shot(page, "assessment-hostile-name")
    assert dialogs == [] and page.errors == []


# ---- the content security policy: no inline script runs without this response's nonce ------------

WATCH_POLICY = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile + ':' \
+ e.lineNumber));
"""


def script_src(response):
    return next(d.strip() for d in response.headers["content-security-policy"].split(";")
                if d.strip().startswith("script-src"))


def test_both_maps_draw_under_a_script_policy_without_unsafe_inline(live_server, page):
    page.add_init_script(WATCH_POLICY)
    console = []
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    drawn = {}

    response = page.goto(f"{live_server}/map")
    assert "'unsafe-inline'" not in script_src(response) and "'nonce-" in script_src(response)
    page.wait_for_function("() => +document.getElementById('public-map').dataset.markers > 0")
    drawn["/map"] = (page.locator(".portal-marker, .marker-cluster").count(),
                     page.locator("path.leaflet-interactive").count())
    assert page.evaluate("() => window.__violations") == []
    shot(page, "csp-public-map")

    sign_in(page, live_server, "analyst")
    response = page.goto(live_server + ASSESSMENT)
    assert "'unsafe-inline'" not in script_src(response) and "'nonce-" in script_src(response)
    page.wait_for_selector(".folium-map path.leaflet-interactive", state="attached", timeout=15000)
    drawn[ASSESSMENT] = (page.locator("path.leaflet-interactive").count(),)
    assert page.evaluate("() => window.__violations") == []
    shot(page, "csp-assessment-map")

    assert drawn["/map"][0] > 0 and drawn["/map"][1] > 0 and drawn[ASSESSMENT][0] > 0, drawn
    # Tiles fail here (no internet): those are the only console errors allowed.
    refused = [m for m in console if "Failed to load resource" not in m]
    assert refused == [] and page.errors == [], refused


