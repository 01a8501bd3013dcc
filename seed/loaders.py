"""Idempotent loaders: they insert the seed rows that are missing and leave every other row as it is.

A row the seed has loaded is recorded (seed_records) under its key in the seed
files, so an admin may rename it, re-key it or change its target and the next
`flask seed` neither overwrites the edit nor inserts the row again. A row
already there without a record (a database seeded by an older portal, or a row
an admin added under the same name) is adopted as it is.

Loaders flush; the caller commits (flask seed, the seed task, tests).
"""
import csv
import json
from datetime import date
from pathlib import Path

from sqlalchemy import select

from portal.concerns.models import ConcernCategory, SurveyResult, SurveyTopic
from portal.extensions import db
from portal.maintenance import SeedRecord
from portal.partners.models import Organisation
from portal.people.models import User
from portal.places.models import Locality, LocalityLsoa
from portal.plan.models import Action, ActionPartner, DeliveryPlan, IndicatorDefinition, Theme

DEMO_PASSWORD = "shropshire-demo-2010"
DEMO_USERS = (
    # email, name, role, organisation, area keys
    ("admin@demo.shropshire-csp.example.org", "Alex Admin", "admin", "Shropshire Council", ()),
    ("officer@demo.shropshire-csp.example.org", "PC Olivia Officer", "officer", "West Mercia Police", ("north",)),
    ("partner@demo.shropshire-csp.example.org", "Pat Partner", "partner", "Registered Social Landlords", ()),
    ("analyst@demo.shropshire-csp.example.org", "Ann Analyst", "analyst", "Shropshire Council", ()),
)


class Seeded:
    """The rows of one table the seed files name, by their seed key; ``record()`` remembers the new ones."""

    def __init__(self, model):
        self.model, self.kind = model, model.__tablename__
        self.ids = dict(db.session.execute(select(SeedRecord.seed_key, SeedRecord.row_id).where(
            SeedRecord.kind == self.kind)).all())
        self.rows, self.pending = {}, []

    def get(self, seed_key, build=None, **natural):
        """(row, new): the row recorded for ``seed_key``, else the one found by its natural key, else a new
        one (``build()``, or one with just the natural key: the caller fills in new rows only, then calls
        ``record()``). (None, False) when an admin has deleted a recorded row: it is not brought back."""
        seed_key = str(seed_key)
        if seed_key in self.rows or seed_key in self.ids:
            return self.find(seed_key), False
        with db.session.no_autoflush:  # a new row of the previous line may still be being filled in
            obj = db.session.execute(select(self.model).filter_by(**natural).limit(1)).scalars().first()
        new = obj is None
        if new:
            obj = build() if build else self.model(**natural)
            db.session.add(obj)
        self.rows[seed_key] = obj
        self.pending.append((seed_key, obj))
        return obj, new

    def find(self, seed_key):
        """The row for ``seed_key`` met in this run or recorded before, or None."""
        seed_key = str(seed_key)
        if seed_key not in self.rows:
            row_id = self.ids.get(seed_key)
            self.rows[seed_key] = db.session.get(self.model, row_id) if row_id is not None else None
        return self.rows[seed_key]

    def record(self):
        """Remember every row met for the first time (flushes)."""
        db.session.flush()
        db.session.add_all(SeedRecord(kind=self.kind, seed_key=seed_key, row_id=obj.id)
                           for seed_key, obj in self.pending)
        self.ids.update((seed_key, obj.id) for seed_key, obj in self.pending)
        self.pending = []
        db.session.flush()


def load_localities(seed_dir):
    doc = json.loads((Path(seed_dir) / "localities.json").read_text(encoding="utf-8"))
    boundaries = _ward_boundaries(seed_dir)
    seeded, created = Seeded(Locality), 0
    for row in doc["localities"]:
        loc, new = seeded.get(row["key"], key=row["key"])
        if not new:
            continue
        created += 1
        loc.name = row["name"]
        loc.level = row["level"]
        loc.parent = seeded.find(row["parent"]) if row.get("parent") else None
        loc.population = row.get("population")
        loc.population_source = row.get("population_source")
        loc.population_estimated = bool(row.get("population_estimated", True))
        if row.get("centre"):
            loc.centre_lat, loc.centre_lon = row["centre"]
        loc.ward_code = row.get("ward_code")
        loc.aliases = list(row.get("aliases") or [])
        if loc.ward_code and loc.ward_code in boundaries:
            loc.boundary = boundaries[loc.ward_code]
        for code in sorted(set(row.get("lsoa_codes") or [])):
            loc.lsoas.append(LocalityLsoa(lsoa_code=code))
    seeded.record()
    return created


def _ward_boundaries(seed_dir):
    path = Path(seed_dir) / "boundaries" / "ukgeojson_wards_by_lad_E06000051.geojson"
    if not path.exists():
        return {}
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {f["properties"]["WD13CD"]: f["geometry"] for f in doc["features"]}


def load_partners(seed_dir):
    seeded, created = Seeded(Organisation), 0
    with open(Path(seed_dir) / "partners.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            org, new = seeded.get(row["name"].strip(), name=row["name"].strip())
            if not new:
                continue
            created += 1
            org.short_name = (row.get("short_name") or "").strip()
            org.kind = (row.get("kind") or "other").strip()
            org.aliases = [a.strip() for a in (row.get("aliases") or "").split("|") if a.strip()]
    seeded.record()
    return created


def load_categories(seed_dir):
    seeded, created = Seeded(ConcernCategory), 0
    with open(Path(seed_dir) / "concern_categories.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            cat, new = seeded.get(row["name"].strip(), name=row["name"].strip())
            if not new:
                continue
            created += 1
            cat.group = row["group"].strip()
    seeded.record()
    return created


def load_plan(seed_dir):
    doc = json.loads((Path(seed_dir) / "delivery_plan_2010_11.json").read_text(encoding="utf-8"))
    orgs = Seeded(Organisation)
    themes, actions, indicators = Seeded(Theme), Seeded(Action), Seeded(IndicatorDefinition)
    plans = Seeded(DeliveryPlan)
    plan, new = plans.get(doc["year"], year=doc["year"])
    created = int(new)
    if new:
        plan.title, plan.source = doc["title"], doc.get("source", "")
    plans.record()
    by_title = {}  # actions by title: a portal measure may be reported beside one of them ("beside_action")
    for t in doc["themes"]:
        if plan is None:
            break
        theme, new = themes.get(f"{doc['year']}/{t['name']}", plan_id=plan.id, name=t["name"])
        created += new
        if new:
            theme.position = t.get("position", 0)
        themes.record()
        for a in t["actions"] if theme is not None else []:
            action, new = actions.get(f"{doc['year']}/{t['name']}/{a['title']}", theme_id=theme.id, title=a["title"])
            created += new
            if new:
                _fill_action(action, a, orgs)
            actions.record()
            by_title[a["title"]] = action
            for ind in a.get("indicators") or []:
                created += _load_indicator(indicators, ind, action)
    for ind in doc.get("portal_indicators") or []:
        created += _load_indicator(indicators, ind, by_title.get(ind.get("beside_action")))
    indicators.record()
    return created


def _fill_action(action, a, orgs):
    action.title_derived = bool(a.get("title_derived"))
    action.position = a.get("position", 0)
    action.outcome = a.get("outcome", "")
    action.monitoring = a.get("monitoring", "")
    action.frequency = a.get("frequency", "monthly")
    action.delivery_frameworks = list(a.get("delivery_frameworks") or [])
    action.ni_codes = list(a.get("ni_codes") or [])
    for role in ("lead", "supporting"):
        for pos, name in enumerate(a.get(f"{role}_partners") or []):
            org = orgs.find(name)
            if org is None:
                raise ValueError(f"delivery_plan_2010_11.json: action '{a['title']}' names "
                                 f"unknown partner '{name}' (not in partners.csv)")
            action.partner_links.append(ActionPartner(organisation_id=org.id, role=role, position=pos))


def _load_indicator(indicators, row, action):
    ind, new = indicators.get(row["code"], code=row["code"])
    if not new:
        return 0
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
    return 1


def load_demo_users():
    created, users = 0, Seeded(User)
    orgs = Seeded(Organisation)
    areas = Seeded(Locality)
    for email, name, role, org_name, area_keys in DEMO_USERS:
        user, new = users.get(email, email=email)
        if new:
            created += 1
            user.display_name, user.role = name, role
            user.organisation = orgs.find(org_name)
            user.areas = [area for area in map(areas.find, area_keys) if area is not None]
            user.set_password(DEMO_PASSWORD)
        user.is_demo = True  # never signs in when PORTAL_ENV=production (portal/people/policy.py)
    users.record()
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

    mapped = set(db.session.execute(select(SurveyTopic.topic)).scalars())
    with open(Path(seed_dir) / "survey_topic_categories.csv", newline="", encoding="utf-8") as fh:
        created = survey.load_topic_mapping([(r["topic"], r["category"]) for r in csv.DictReader(fh)
                                             if r["topic"] not in mapped])
    path = Path(seed_dir) / "community_survey_2005_2010.csv"
    # A survey, period and area already held (the seed's, or an analyst's import of it) stays as it is.
    held = set(db.session.execute(select(SurveyResult.survey, SurveyResult.period, SurveyResult.locality_id)
                                  .distinct()).all())
    rows = [(number, r) for number, r in survey.parse(path.name, path.read_bytes())
            if (r["survey"], r["period"], r["locality"].id) not in held]
    if rows:
        survey.replace_results(rows)
    return created + len(rows)


def load_demo_pact(seed_dir):
    """Demo PACT meetings of October 2008 to September 2009 whose concerns reproduce Table 1.

    Flagged is_demo (pages say "demo data"); loaded only with the demo accounts.
    """
    from portal.concerns.models import Concern, ConcernEvent, PactMeeting
    from portal.models import utcnow

    localities, categories = Seeded(Locality), Seeded(ConcernCategory)
    meetings, concerns = Seeded(PactMeeting), Seeded(Concern)
    created = 0
    with open(Path(seed_dir) / "demo_pact_concerns_2008_09.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            locality, held_on = localities.find(row["locality"]), date.fromisoformat(row["held_on"])
            category = categories.find(row["category"])
            if locality is None or category is None:
                continue  # an admin removed it
            meeting, new = meetings.get(
                f"{row['locality']}/{held_on}", locality_id=locality.id, held_on=held_on, is_demo=True,
                build=lambda: PactMeeting(locality=locality, held_on=held_on, is_demo=True,
                                          venue=f"{locality.name} community centre", attendance=12,
                                          notes="Demo meeting (seed data)"))
            created += new
            if meeting is None:
                continue
            meetings.record()

            def build():
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
                return concern

            _, new = concerns.get(f"{row['locality']}/{held_on}/{row['category']}/{row['you_said']}", build=build,
                                  pact_meeting_id=meeting.id, category_id=category.id, you_said=row["you_said"])
            created += new
    concerns.record()
    return created


def load_police_sample(seed_dir):
    """The two real police.uk months in seed/police, imported once, then the indicators rolled up."""
    from portal.crime.models import CrimeImport
    from portal.crime.services import import_paths
    from portal.indicators.engine import rollup

    db.session.commit()  # the importer commits per file; start it from a clean transaction
    done = {row.file_name for row in db.session.execute(
        select(CrimeImport).where(CrimeImport.status == "done")).scalars()}
    paths = [p for p in sorted((Path(seed_dir) / "police").glob("*.csv")) if p.name not in done]
    if not paths:
        return 0
    runs, errors = import_paths(paths)
    if errors:
        raise ValueError("; ".join(e.message for e in errors))
    months = sorted(run.month for run in runs)
    rollup(months[0], months[-1])
    return sum(run.rows for run in runs)


def load_category_crime_types(seed_dir):
    """The police.uk crime types each concern category is seen in (seed/category_crime_types.csv): pairs
    not yet stored are added; a category with none listed stays without (police data cannot see it)."""
    from portal.concerns.models import CategoryCrimeType

    categories = dict(db.session.execute(select(ConcernCategory.name, ConcernCategory.id)).all())
    have = set(db.session.execute(select(CategoryCrimeType.category_id, CategoryCrimeType.crime_type)).all())
    created = 0
    with open(Path(seed_dir) / "category_crime_types.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            category_id = categories.get(row["category"].strip())
            for kind in filter(None, (k.strip() for k in row["crime_types"].split("|"))):
                if category_id is not None and (category_id, kind) not in have:
                    db.session.add(CategoryCrimeType(category_id=category_id, crime_type=kind))
                    have.add((category_id, kind))
                    created += 1
    db.session.flush()
    return created


# Feature packages add their own seed steps here (name, function(seed_dir), demo only?).
EXTRA_LOADERS = [("police_crime_sample", load_police_sample, True),
                 ("category_crime_types", load_category_crime_types)]


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
