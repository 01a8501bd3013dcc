"""Every page, for everyone, on a 320 px phone: no sideways scrolling, pinch-zoom allowed, unique ids,
the white body down to the page's bottom, no serious or critical axe-core violation.

The pages are found in ``app.url_map`` (as tests/app/test_access.py finds the routes), so a page added
later is checked without anyone listing it. Each role visits every HTML page it may use; public pages
are visited signed out. Values for the URL's arguments come from the seeded data: for ``<int:xxx_id>``
the newest rows of the model named ``...Xxx`` (from the view's own feature first), narrowed by the
arguments already chosen (an agenda item of the chosen meeting); for ``<key>``, ``<code>`` and the like,
values of a model's column of that name. The first SAMPLES values the role gets an HTML page for are used.
"""
import itertools
import re

import pytest
from flask import url_for
from sqlalchemy import select

from portal.access import PUBLIC, ROLES, SIGNED_IN, rule_for
from portal.extensions import db

from ..conftest import DEMO_EMAILS, Browser
from .conftest import new_page, serious_violations, sign_in, with_axe

PHONE = 320
# Not pages: data, feeds and files (their own tests cover them).
NOT_PAGES = re.compile(r"\.(json|geojson|csv|xml|rss|atom|ics|txt|pdf|xlsx|zip)$|^/healthz$|^/api/|^/open311/")
CANDIDATES = 6  # rows tried per argument
TRIES = 12  # URLs tried per route and role
SAMPLES = 2  # pages checked per route and role: records in different states show different forms

PAGE_FACTS = """() => {
  const count = {};
  document.querySelectorAll('[id]').forEach(e => { count[e.id] = (count[e.id] || 0) + 1; });
  // The deepest elements reaching past the right edge: what to fix when the page scrolls sideways.
  const edge = document.documentElement.clientWidth + 0.5;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > edge
                 && ![...e.children].some(c => c.getBoundingClientRect().right > edge))
    .slice(0, 3)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
              (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '') +
              ' (' + Math.round(e.getBoundingClientRect().right) + 'px)');
  // Text wider than its box (a long word or address) overflows without widening any element.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node && wide.length < 6; node = walker.nextNode()) {
    range.selectNodeContents(node);
    if (node.textContent.trim() && range.getBoundingClientRect().right > edge) {
      const right = Math.round(range.getBoundingClientRect().right);
      wide.push('text "' + node.textContent.trim().slice(0, 40) + '" (' + right + 'px)');
    }
  }
  return {
    width: document.documentElement.scrollWidth,
    // The white body reaching the bottom of the page (folium's "body {height: 100%}" once cut it short,
    // leaving a grey band of the page's background under the map).
    bodyShort: document.documentElement.scrollHeight > document.documentElement.clientHeight
      ? document.documentElement.scrollHeight - document.body.getBoundingClientRect().height : 0,
    duplicates: Object.keys(count).filter(id => count[id] > 1),
    viewports: [...document.querySelectorAll('meta[name=viewport]')].map(m => m.content),
    wide: wide,
  };
}"""
NO_ZOOM = re.compile(r"user-scalable\s*=\s*(no|0)\b|maximum-scale\s*=\s*1(\.0*)?(\s*[,;]|\s*$)", re.I)


@pytest.fixture
def every_page_data(app, tmp_path):
    """What the seed lacks for some pages: North tasks for the partner (one open, one completed and
    awaiting review, with a photo on its log), each holding a concern, a published concern with a
    resident's comment on its "We did", a concern raised online, a Bronze tasking meeting with its agenda,
    and a crime upload that failed. Returns {(endpoint, argument): [values]} for arguments no column
    holds (the links in residents' emails) or that only some rows of a column fit (an area's key)."""
    import io

    from PIL import Image
    from werkzeug.datastructures import FileStorage

    from portal.crime.models import CrimeUpload
    from portal.crime.stats import latest_month
    from portal.feedback import services as feedback
    from portal.following import services as following
    from portal.following.models import Follower
    from portal.places.models import Locality
    from portal.reporting.models import OnlineReport
    from portal.tasking import attachments

    from ..factories import completed, logged_concern, new_concern, new_meeting, new_task, user

    app.config["UPLOAD_DIR"] = str(tmp_path)
    new_task(new_concern())
    task = new_task(new_concern(said="Cars racing down the High Street"))
    photo = io.BytesIO()
    Image.new("RGB", (32, 24), "teal").save(photo, "JPEG")
    photo.seek(0)
    attachments.update_with_files(task, by=user("partner"), version=task.version_id, text="Photo of the verge",
                                  files=[FileStorage(photo, filename="verge.jpg", content_type="image/jpeg")])
    db.session.commit()
    completed(task, we_did="Speed checks every week")
    answered = logged_concern(10, answered_after=3)
    db.session.commit()
    feedback.record_answer(answered.id, browser_id="every-page", answer="no", comment="Still racing at night")
    db.session.add(OnlineReport(concern=new_concern(said="Bins set alight behind the shops"),
                                email="resident@example.org", token="every-page-stop-link"))
    new_meeting()
    db.session.add(CrimeUpload(file_name="2010-03-west-mercia-street.csv", task_id="every-page", status="failed",
                               message="The file is not a police.uk CSV"))
    ludlow = db.session.execute(select(Locality).filter_by(key="ludlow")).scalar_one()
    following.request_follow("follower@example.org", ludlow)
    follower = db.session.execute(select(Follower).filter_by(email="follower@example.org")).scalar_one()
    db.session.commit()
    def latest_crime_month():
        return f"{latest_month():%Y-%m}"

    areas = db.session.execute(select(Locality.key).filter_by(level="area").order_by(Locality.id)).scalars().all()
    return {("following.confirm", "token"): [following.confirmation_token(follower, ludlow)],
            ("following.unsubscribe", "token"): [following.unsubscribe_token(follower)],
            ("tasking.area_coverage", "key"): areas,
            # The pack of the latest month with police data, and an indicator of it.
            ("pack.draft", "month"): [latest_crime_month()], ("pack.commentary", "month"): [latest_crime_month()]}


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _models():
    return [mapper.class_ for mapper in db.Model.registry.mappers]


def _values(app, rule, name, chosen, given):
    """Sample values for one URL argument, most likely first (see the module's docstring); ``given``
    values first, by (endpoint, argument)."""
    if (rule.endpoint, name) in given:
        return given[(rule.endpoint, name)]
    feature = app.view_functions[rule.endpoint].__module__.rsplit(".", 1)[0]
    if name.endswith("_id"):
        stem = name[: -len("_id")]
        models = [m for m in _models() if _snake(m.__name__) == stem or _snake(m.__name__).endswith("_" + stem)]
        column = "id"
    else:
        models = [m for m in _models() if name in m.__table__.columns]
        column = name
    models.sort(key=lambda m: not m.__module__.startswith(feature + "."))
    values = []
    for model in models:
        query = select(getattr(model, column))
        for other, value in chosen.items():  # an agenda item of the chosen meeting, and so on
            if other in model.__table__.columns:
                query = query.where(model.__table__.columns[other] == value)
        query = query.order_by(model.__table__.primary_key.columns.values()[0].desc()).limit(CANDIDATES)
        values += [v for v in db.session.execute(query).scalars() if v is not None and v not in values]
    return values


def _urls(app, rule, given):
    """URLs for a rule, built from sample values; the first argument's values vary slowest."""
    names = sorted(rule.arguments)

    def walk(chosen, rest):
        if not rest:
            yield dict(chosen)
            return
        for value in _values(app, rule, rest[0], chosen, given):
            yield from walk({**chosen, rest[0]: value}, rest[1:])

    with app.test_request_context():
        for values in itertools.islice(walk({}, names), TRIES):
            yield url_for(rule.endpoint, **values)


def html_pages(app, who, given):
    """{rule: [url, ...]} of the HTML GET pages ``who`` may use, with arguments ``who`` gets a page for;
    and the rules (with the statuses seen) for which no sample gave one."""
    person = Browser(app) if who == "anonymous" else Browser(app).sign_in(DEMO_EMAILS[who])
    found, missed = {}, {}
    for rule in app.url_map.iter_rules():
        allowed = rule_for(rule.endpoint)
        if "GET" not in rule.methods or rule.endpoint == "static" or NOT_PAGES.search(rule.rule):
            continue
        # Public pages are checked signed out; the staff header they gain when signed in is on every staff page.
        if who == "anonymous" and PUBLIC not in allowed:
            continue
        if who != "anonymous" and (PUBLIC in allowed or not (SIGNED_IN in allowed or who in allowed)):
            continue
        seen, urls = [], []
        for url in _urls(app, rule, given):
            response = person.get(url)
            if response.status_code == 200 and response.mimetype == "text/html":
                urls.append(url)
                if len(urls) == SAMPLES:
                    break
            else:  # a 200 that is not HTML is a file or a feed, not a page
                seen.append("file" if response.status_code == 200 else response.status_code)
        if urls:
            found[rule.rule] = urls
        else:
            missed[rule.rule] = seen
    return found, missed


def _problems(page, url):
    response = page.goto(url, wait_until="load")
    facts = page.evaluate(PAGE_FACTS)
    problems = []
    if response.status != 200:
        problems.append(f"status {response.status}")
    if facts["width"] > PHONE:
        problems.append(f"{facts['width']} px wide: {', '.join(facts['wide'])}")
    if facts["bodyShort"] > 1:
        problems.append(f"the page's body ends {facts['bodyShort']:.0f} px above the bottom of the page")
    problems += [f"viewport stops zooming: {v!r}" for v in facts["viewports"] if NO_ZOOM.search(v)]
    if facts["duplicates"]:
        problems.append(f"repeated ids: {facts['duplicates'][:8]}")
    problems += serious_violations(page)
    return problems


def test_every_page_fits_a_phone_zooms_and_passes_axe_for_every_role(app, live_server, chromium, every_page_data):
    problems, unreached = {}, {}
    checked = set()
    for who in ("anonymous",) + ROLES:
        pages, missed = html_pages(app, who, every_page_data)
        unreached[who] = missed
        page = with_axe(new_page(chromium, width=PHONE, height=640))
        if who != "anonymous":
            sign_in(page, live_server, who)
        for rule, urls in pages.items():
            for url in urls:
                found = _problems(page, live_server + url)
                if found:
                    problems[f"{who} {url}"] = found
            checked.add(rule)
        page.context.close()
    assert problems == {}
    # Every page is checked by someone: a page no role reached needs data (or a better sample) here.
    never = {rule: {who: seen[rule] for who, seen in unreached.items() if rule in seen}
             for who_missed in unreached.values() for rule in who_missed if rule not in checked}
    not_pages = {rule for rule, by in never.items()
                 if any("file" in seen for seen in by.values())
                 or all(seen and all(c != "file" and 300 <= c < 400 for c in seen) for seen in by.values())}
    assert {rule: by for rule, by in never.items() if rule not in not_pages} == {}, \
        "pages no role could open with the seeded data (statuses per role): add records to every_page_data"
    assert len(checked) > 40, sorted(checked)
