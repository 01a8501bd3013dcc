"""Idempotent loaders: each row is matched on its natural key and updated, never duplicated.

Loaders flush; the caller commits (flask seed, the seed task, tests).
"""
import csv
import json
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from portal.concerns.models import ConcernCategory, SurveyResult
from portal.extensions import db
from portal.partners.models import Organisation
from portal.people.models import User
from portal.places.models import Locality, LocalityLsoa
from portal.plan.models import ActionPartner, Action, DeliveryPlan, IndicatorDefinition, Theme

DEMO_PASSWORD = "shropshire-demo-2010"
DEMO_USERS = (
    # email, name, role, organisation, area keys
    ("admin@demo.shropshire-csp.example.org", "Alex Admin", "admin", "Shropshire Council", ()),
    ("officer@demo.shropshire-csp.example.org", "PC Olivia Officer", "officer", "West Mercia Police", ("north",)),
    ("partner@demo.shropshire-csp.example.org", "Pat Partner", "partner", "Registered Social Landlords", ()),
    ("analyst@demo.shropshire-csp.example.org", "Ann Analyst", "analyst", "Shropshire Council", ()),
)


def _get_or_new(model, **key):
    obj = db.session.execute(select(model).filter_by(**key)).scalar_one_or_none()
    if obj is None:
        obj = model(**key)
        db.session.add(obj)
        return obj, True
    return obj, False


def load_localities(seed_dir):
    doc = json.loads((Path(seed_dir) / "localities.json").read_text(encoding="utf-8"))
    boundaries = _ward_boundaries(seed_dir)
    by_key, created = {}, 0
    for row in doc["localities"]:
        loc, new = _get_or_new(Locality, key=row["key"])
        created += new
        loc.name = row["name"]
        loc.level = row["level"]
        loc.parent = by_key.get(row["parent"]) if row.get("parent") else None
        loc.population = row.get("population")
        loc.population_source = row.get("population_source")
        loc.population_estimated = bool(row.get("population_estimated", True))
        if row.get("centre"):
            loc.centre_lat, loc.centre_lon = row["centre"]
        loc.ward_code = row.get("ward_code")
        loc.aliases = list(row.get("aliases") or [])
        if loc.ward_code and loc.ward_code in boundaries:
            loc.boundary = boundaries[loc.ward_code]
        wanted = set(row.get("lsoa_codes") or [])
        have = {link.lsoa_code: link for link in loc.lsoas}
        for code in set(have) - wanted:
            loc.lsoas.remove(have[code])
        for code in sorted(wanted - set(have)):
            loc.lsoas.append(LocalityLsoa(lsoa_code=code))
        by_key[row["key"]] = loc
    db.session.flush()
    return created


def _ward_boundaries(seed_dir):
    path = Path(seed_dir) / "boundaries" / "ukgeojson_wards_by_lad_E06000051.geojson"
    if not path.exists():
        return {}
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {f["properties"]["WD13CD"]: f["geometry"] for f in doc["features"]}


def load_partners(seed_dir):
    created = 0
    with open(Path(seed_dir) / "partners.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            org, new = _get_or_new(Organisation, name=row["name"].strip())
            created += new
            org.short_name = (row.get("short_name") or "").strip()
            org.kind = (row.get("kind") or "other").strip()
            org.aliases = [a.strip() for a in (row.get("aliases") or "").split("|") if a.strip()]
    db.session.flush()
    return created


def load_categories(seed_dir):
    created = 0
    with open(Path(seed_dir) / "concern_categories.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            cat, new = _get_or_new(ConcernCategory, name=row["name"].strip())
            created += new
            cat.group = row["group"].strip()
    db.session.flush()
    return created


def load_plan(seed_dir):
    doc = json.loads((Path(seed_dir) / "delivery_plan_2010_11.json").read_text(encoding="utf-8"))
    orgs = {o.name: o for o in db.session.execute(select(Organisation)).scalars()}
    plan, created = _get_or_new(DeliveryPlan, year=doc["year"])
    plan.title, plan.source = doc["title"], doc.get("source", "")
    for t in doc["themes"]:
        theme = next((x for x in plan.themes if x.name == t["name"]), None)
        if theme is None:
            theme = Theme(name=t["name"])
            plan.themes.append(theme)
            created += 1
        theme.position = t.get("position", 0)
        for a in t["actions"]:
            action = next((x for x in theme.actions if x.title == a["title"]), None)
            if action is None:
                action = Action(title=a["title"])
                theme.actions.append(action)
                created += 1
            action.title_derived = bool(a.get("title_derived"))
            action.position = a.get("position", 0)
            action.outcome = a.get("outcome", "")
            action.monitoring = a.get("monitoring", "")
            action.frequency = a.get("frequency", "monthly")
            action.delivery_frameworks = list(a.get("delivery_frameworks") or [])
            action.ni_codes = list(a.get("ni_codes") or [])
            links = []
            for role in ("lead", "supporting"):
                for pos, name in enumerate(a.get(f"{role}_partners") or []):
                    if name not in orgs:
                        raise ValueError(f"delivery_plan_2010_11.json: action '{a['title']}' names "
                                         f"unknown partner '{name}' (not in partners.csv)")
                    links.append((orgs[name].id, role, pos))
            current = {(l.organisation_id, l.role): l for l in action.partner_links}
            for key in set(current) - {(o, r) for o, r, _ in links}:
                action.partner_links.remove(current[key])
            for org_id, role, pos in links:
                link = current.get((org_id, role))
                if link is None:
                    action.partner_links.append(ActionPartner(organisation_id=org_id, role=role, position=pos))
                else:
                    link.position = pos
            db.session.flush()
            for ind in a.get("indicators") or []:
                created += _load_indicator(ind, action)
    for ind in doc.get("portal_indicators") or []:
        created += _load_indicator(ind, None)
    db.session.flush()
    return created


def _load_indicator(row, action):
    ind, new = _get_or_new(IndicatorDefinition, code=row["code"])
    ind.action = action
    ind.ni_code = row.get("ni_code")
    ind.name = row["name"]
    ind.unit = row["unit"]
    ind.polarity = row["polarity"]
    ind.baseline = row.get("baseline")
    ind.baseline_label = row.get("baseline_label")
    ind.target = row.get("target")
    ind.target_date = date.fromisoformat(row["target_date"]) if row.get("target_date") else None
    ind.frequency = row.get("frequency") or (action.frequency if action else "monthly")
    ind.source = row["source"]
    ind.crime_types = list(row.get("crime_types") or [])
    ind.amber_tolerance = row.get("amber_tolerance") if row.get("amber_tolerance") is not None else 5.0
    ind.notes = row.get("notes") or ""
    ind.proxy_note = row.get("proxy_note") or ""
    ind.target_change_pct = row.get("target_change_pct")
    ind.baseline_period_type = row.get("baseline_period_type")
    ind.baseline_period_start = (date.fromisoformat(row["baseline_period_start"])
                                 if row.get("baseline_period_start") else None)
    return int(new)


def load_demo_users():
    created = 0
    orgs = {o.name: o for o in db.session.execute(select(Organisation)).scalars()}
    areas = {l.key: l for l in db.session.execute(select(Locality).where(Locality.level == "area")).scalars()}
    for email, name, role, org_name, area_keys in DEMO_USERS:
        user, new = _get_or_new(User, email=email)
        created += new
        if new:
            user.display_name, user.role = name, role
            user.organisation = orgs.get(org_name)
            user.areas = [areas[k] for k in area_keys if k in areas]
            user.set_password(DEMO_PASSWORD)
        user.is_demo = True  # never signs in when PORTAL_ENV=production (portal/people/policy.py)
    db.session.flush()
    return created


def remove_demo_users():
    """Delete the demo accounts. One that other rows still name (a concern it logged, a task it owns)
    stays for that history, deactivated and without a password, so it can never sign in. Returns the
    number deleted."""
    demo = db.session.execute(select(User).where(User.is_demo.is_(True))).scalars().all()
    if not demo:
        return 0
    ids = [u.id for u in demo]
    cited = set()
    for table in db.metadata.sorted_tables:
        if table.name == "user_areas":  # the account's own areas go with it
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == "users":
                cited |= set(db.session.execute(select(fk.parent).where(fk.parent.in_(ids))).scalars())
    deleted = 0
    for user in demo:
        if user.id in cited:
            user.active, user.password_hash = False, ""
            user.end_sessions()
        else:
            user.areas = []
            db.session.delete(user)
            deleted += 1
    db.session.flush()
    return deleted


def load_survey(seed_dir):
    """Table 2 of the delivery plan and the survey topics' matching PACT categories."""
    from portal.concerns import survey

    with open(Path(seed_dir) / "survey_topic_categories.csv", newline="", encoding="utf-8") as fh:
        created = survey.load_topic_mapping([(r["topic"], r["category"]) for r in csv.DictReader(fh)])
    path = Path(seed_dir) / "community_survey_2005_2010.csv"
    rows = survey.parse(path.name, path.read_bytes())
    stored = db.session.execute(select(func.count()).select_from(SurveyResult)).scalar_one()
    survey.replace_results(rows)
    after = db.session.execute(select(func.count()).select_from(SurveyResult)).scalar_one()
    return created + max(after - stored, 0)


def load_demo_pact(seed_dir):
    """Demo PACT meetings of October 2008 to September 2009 whose concerns reproduce Table 1.

    Flagged is_demo (pages say "demo data"); loaded only with the demo accounts.
    """
    from portal.concerns.models import Concern, ConcernEvent, PactMeeting
    from portal.models import utcnow

    localities = {l.key: l for l in db.session.execute(select(Locality)).scalars()}
    categories = {c.name: c for c in db.session.execute(select(ConcernCategory)).scalars()}
    created, meetings = 0, {}
    with open(Path(seed_dir) / "demo_pact_concerns_2008_09.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            locality, held_on = localities[row["locality"]], date.fromisoformat(row["held_on"])
            meeting = meetings.get((locality.id, held_on))
            if meeting is None:
                meeting = db.session.execute(select(PactMeeting).filter_by(
                    locality_id=locality.id, held_on=held_on, is_demo=True)).scalar_one_or_none()
                if meeting is None:
                    meeting = PactMeeting(locality=locality, held_on=held_on, is_demo=True,
                                          venue=f"{locality.name} community centre", attendance=12,
                                          notes="Demo meeting (seed data)")
                    db.session.add(meeting)
                    created += 1
                meetings[(locality.id, held_on)] = meeting
            category = categories[row["category"]]
            concern = next((c for c in meeting.concerns
                            if c.category_id == category.id and c.you_said == row["you_said"]), None)
            if concern is not None:
                continue
            priorities = sum(1 for c in meeting.concerns if c.is_priority)
            responded = row["status"] in ("responded", "closed")
            concern = Concern(locality=locality, category=category, source="pact", raised_on=held_on,
                              you_said=row["you_said"], raised_count=int(row["raised_count"]),
                              is_priority=row["priority"] == "yes" and priorities < 3, status=row["status"],
                              we_did=row["we_did"], is_demo=True,
                              responded_on=date.fromordinal(held_on.toordinal() + 21) if responded else None,
                              published=row["published"] == "yes",
                              published_at=utcnow() if row["published"] == "yes" else None)
            meeting.concerns.append(concern)
            concern.events.append(ConcernEvent(kind="created", to_status=row["status"],
                                               detail="Demo data loaded from seed/demo_pact_concerns_2008_09.csv"))
            created += 1
    db.session.flush()
    return created


def load_police_sample(seed_dir):
    """The two real police.uk months in seed/police, imported once, then the indicators rolled up."""
    from portal.crime.models import CrimeImport
    from portal.crime.services import import_paths
    from portal.indicators.engine import rollup

    db.session.commit()  # the importer commits per file; start it from a clean transaction
    done = {row.file_name for row in db.session.execute(select(CrimeImport).where(CrimeImport.status == "done")).scalars()}
    paths = [p for p in sorted((Path(seed_dir) / "police").glob("*.csv")) if p.name not in done]
    if not paths:
        return 0
    runs, errors = import_paths(paths)
    if errors:
        raise ValueError("; ".join(e.message for e in errors))
    months = sorted(run.month for run in runs)
    rollup(months[0], months[-1])
    return sum(run.rows for run in runs)


# Feature packages add their own seed steps here (name, function(seed_dir), demo only?).
EXTRA_LOADERS = [("police_crime_sample", load_police_sample, True)]


def load_all(seed_dir, demo_accounts=False, remove_demo=False):
    """Load every seed file in dependency order; returns {step: rows created}.

    ``remove_demo`` (seeding explicitly without demo accounts) removes any that exist (remove_demo_users).
    """
    created = {
        "localities": load_localities(seed_dir),
        "partners": load_partners(seed_dir),
        "concern_categories": load_categories(seed_dir),
        "delivery_plan": load_plan(seed_dir),
        "community_survey": load_survey(seed_dir),
    }
    if demo_accounts:
        created["demo_users"] = load_demo_users()
        created["demo_pact_meetings"] = load_demo_pact(seed_dir)
    elif remove_demo:
        created["demo_users_removed"] = remove_demo_users()
    for name, loader, *demo_only in EXTRA_LOADERS:
        if demo_accounts or not (demo_only and demo_only[0]):
            created[name] = loader(seed_dir)
    return created
