"""Every page at a county's scale of years, on PostgreSQL: server time and SQL statements per page.

    .venv/bin/python bench/bench_scale.py                              # 1k, 10k, 100k concerns and tasks
                                                                       # with 21k, 1M, 5M crime rows
    .venv/bin/python bench/bench_scale.py --scales 1k,10k --crime 21k,1M   # a few minutes
    (BENCH_ADMIN_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres by default)

It creates a throwaway database (dropped at the end, also on failure), migrates and seeds it, then grows
it stage by stage (the n-th concern scale with the n-th crime scale; the shorter list repeats its last):
  concerns and tasks: a sample through the portal's own services (log_concern, change_status, publish,
      create_task), the rest as bulk INSERT ... SELECT of equivalent rows spread over the seed's
      localities, categories, partner organisations and one partner account per organisation;
  crime rows: the seed's two real police.uk months (21,559 rows) shifted to earlier months, five copies
      a month with fresh Crime IDs (a force five times West Mercia's size), loaded with COPY, each month's
      crime_monthly_counts written by the importer's own ``_count_month`` and an import record per month.
Then every page is requested through the Flask test client as the person who uses it: the median server
time of a few requests (one or two when a request takes over a second), the SQL statements of one
request, and the ratios against the first stage of the same run. Public pages are measured with their
shared cache emptied before each request (the cost of building them); the "hit" column is the next
request, served from the cache. CSV exports also give the time to their first byte and the peak Python
memory while streaming (tracemalloc, on a separate request). A page slower than --budget seconds is not
requested at larger stages, unless it is one of ALWAYS (the pages whose cost must not grow with the data).
"""
import argparse
import os
import statistics
import sys
import time
import tracemalloc
from datetime import date, timedelta
from types import SimpleNamespace

import sqlalchemy as sa
from common import Statements, last_page_link, next_link, seeded_database, sign_in

ADMIN = os.environ.get("BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CRIME_COPIES_PER_MONTH = 5
# Pages whose cost must not grow with the data (issue 15): measured at every stage, whatever they take.
ALWAYS = {"public list", "public list, middle page", "public list, middle page by number", "locality page",
          "public CSV", "register page 1", "register middle page", "register middle page by number",
          "register last page", "register CSV", "indicator report", "strategic assessment", "crime imports", "map",
          "home"}
SAMPLE_CONCERNS, SAMPLE_TASKS = 30, 10


def amount(text):
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def admin(sql):
    engine = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(sql))
    engine.dispose()


# ---- growing the data -------------------------------------------------------------------------------

class County:
    """The seed's places, categories, partners and people the generated rows are spread over."""

    def __init__(self):
        from portal.concerns.models import ConcernCategory
        from portal.extensions import db
        from portal.partners.models import Organisation
        from portal.people.models import User
        from portal.places.models import Locality

        places = db.session.execute(sa.select(Locality).where(Locality.level.in_(("neighbourhood", "ward")),
                                                              Locality.active)).scalars().all()
        self.localities = [p.id for p in places]
        self.areas = [p.area.id for p in places]
        self.categories = list(db.session.execute(sa.select(ConcernCategory.id)
                                                  .where(ConcernCategory.retired.is_(False))).scalars())
        self.officer = db.session.execute(sa.select(User).where(User.email.like("officer@%"))).scalar_one()
        self.admin = db.session.execute(sa.select(User).where(User.email.like("admin@%"))).scalar_one()
        self.partner = db.session.execute(sa.select(User).where(User.email.like("partner@%"))).scalar_one()
        owners = {self.partner.organisation_id: self.partner.id}
        for org in db.session.execute(sa.select(Organisation).where(Organisation.active)).scalars():
            if org.id not in owners:
                email = f"bench-{org.id}@example.org"
                user = db.session.execute(sa.select(User).where(User.email == email)).scalar_one_or_none()
                if user is None:
                    user = User(email=email, display_name=f"{org.name} officer", role="partner",
                                organisation_id=org.id)
                    db.session.add(user)
                    db.session.flush()
                owners[org.id] = user.id
        db.session.commit()
        # The demo partner's organisation leads every fourth task; the others share the rest.
        self.organisations = [self.partner.organisation_id] + [o for o in owners if o != self.partner.organisation_id]
        self.owners = [owners[o] for o in self.organisations]


def sample_through_services(county, n_concerns, n_tasks):
    """Concerns and tasks made as a user makes them: logged, answered, published, tasked."""
    from portal.concerns import services as concerns
    from portal.extensions import db
    from portal.tasking import tasks

    north = [loc for loc, area in zip(county.localities, county.areas, strict=True)
             if county.officer.covers(area)]
    made = []
    for i in range(n_concerns):
        concern = concerns.log_concern(concerns.ConcernInput(
            category_id=county.categories[i % len(county.categories)], locality_id=north[i % len(north)],
            you_said=f"Sample concern {i}: cars speeding past the school", internal_notes="Caller's address"),
            by=county.officer, source="resident_contact", raised_on=date.today() - timedelta(days=i % 60))
        if i % 2:
            concerns.change_status(concern, "responded", by=county.officer, we_did="Speed checks every week")
            concerns.publish(concern, by=county.officer)
        made.append(concern)
    db.session.flush()
    sample_tasks = []
    for i in range(n_tasks):
        concern = made[i * 2]  # an open one
        sample_tasks.append(tasks.create_task(
            by=county.officer, title=f"Sample task {i}", problem="Speeding past the school",
            locality_id=concern.locality_id, lead_organisation_id=county.partner.organisation_id,
            owner_id=county.partner.id, due_on=date.today() + timedelta(days=14), concern_ids=[concern.id]))
    db.session.commit()
    return made[1].id, sample_tasks[0].id


CONCERNS_SQL = """
INSERT INTO concerns (locality_id, category_id, source, raised_on, you_said, internal_notes, street, raised_count,
    is_priority, status, status_reason, we_did, responded_on, published, published_at, is_demo, created_by_id,
    version_id, created_at, updated_at, public_reason, withdrawn)
SELECT p.loc[1 + (g * 7) % cardinality(p.loc)], p.cat[1 + (g * 13) % cardinality(p.cat)],
    (ARRAY['pact','survey','partner_referral','resident_contact'])[1 + g % 4],
    current_date - (g * 37 % 1825), 'Bench concern ' || g || ': youths gathering by the shops', 'Private note ' || g,
    '', CASE WHEN g % 20 = 0 THEN 3 ELSE 1 END, g % 50 = 0,
    (ARRAY['new','accepted','in_progress','responded','closed','no_further_action'])[1 + g % 6], '',
    CASE WHEN g % 6 IN (3, 4) THEN 'Patrols at the shops on Friday nights' ELSE '' END,
    CASE WHEN g % 6 IN (3, 4) THEN current_date - (g * 37 % 1825) + 20 END,
    g % 6 IN (0, 1, 3, 4) AND g % 3 <> 2, CASE WHEN g % 6 IN (0, 1, 3, 4) THEN now() END, false, :by,
    1, now(), now(), '', ''
FROM (SELECT CAST(:loc AS int[]) AS loc, CAST(:cat AS int[]) AS cat) AS p,
    generate_series(CAST(:first AS int), CAST(:last AS int)) AS g
"""

TASKS_SQL = """
INSERT INTO tasks (id, area_id, locality_id, title, problem, lead_organisation_id, owner_id, due_on, priority, stage,
    victim, offender, location, status, blocked_reason, assessment, we_did, published, created_by_id, version_id,
    created_at, updated_at, published_we_did)
SELECT CAST(:base AS int) + row_number() OVER (ORDER BY c.id), m.area, c.locality_id, 'Bench task for concern ' || c.id,
    c.you_said, p.org[1 + c.id % cardinality(p.org)], p.own[1 + c.id % cardinality(p.own)],
    current_date + (c.id * 11 % 400) - 200, (ARRAY['high','medium','low'])[1 + c.id % 3],
    (ARRAY['scanning','analysis','response','assessment'])[1 + c.id % 4], '', '', '',
    (ARRAY['open','in_progress','blocked','open','completed','closed'])[1 + c.id % 6], '', '', '', false, :by,
    1, now(), now(), ''
FROM (SELECT id, locality_id, you_said FROM concerns WHERE id > CAST(:after AS int)
      ORDER BY id LIMIT CAST(:n AS int)) AS c
JOIN unnest(CAST(:locs AS int[]), CAST(:areas AS int[])) AS m(loc, area) ON m.loc = c.locality_id
CROSS JOIN (SELECT CAST(:org AS int[]) AS org, CAST(:own AS int[]) AS own) AS p
"""

LINKS_SQL = """
INSERT INTO task_concerns (task_id, concern_id)
SELECT CAST(:base AS int) + row_number() OVER (ORDER BY c.id), c.id
FROM (SELECT id FROM concerns WHERE id > CAST(:after AS int) ORDER BY id LIMIT CAST(:n AS int)) AS c
"""


def grow_concerns_and_tasks(county, target):
    """Bulk rows until there are ``target`` concerns and ``target`` tasks."""
    from portal.extensions import db

    have = db.session.execute(sa.text("SELECT count(*), coalesce(max(id), 0) FROM concerns")).one()
    if target > have[0]:
        top = have[1]
        params = {"first": top + 1, "last": top + target - have[0], "by": county.officer.id,
                  "loc": county.localities, "cat": county.categories}
        db.session.execute(sa.text(CONCERNS_SQL), params)
    tasks = db.session.execute(sa.text("SELECT count(*), coalesce(max(id), 0) FROM tasks")).one()
    if target > tasks[0]:
        n = target - tasks[0]
        after = db.session.execute(sa.text("SELECT coalesce(max(concern_id), 0) FROM task_concerns")).scalar()
        params = {"base": tasks[1], "after": after, "n": n, "by": county.officer.id, "locs": county.localities,
                  "areas": county.areas}
        db.session.execute(sa.text(TASKS_SQL), {**params, "org": county.organisations, "own": county.owners})
        db.session.execute(sa.text(LINKS_SQL), {"base": tasks[1], "after": after, "n": n})
        db.session.execute(sa.text("SELECT setval('tasks_id_seq', (SELECT max(id) FROM tasks))"))
    db.session.commit()


COLUMNS = "month, force, crime_id, crime_type, lsoa_code, lat, lon, locality_id, import_id"


def crime_templates():
    """The seed's real rows as COPY text, one block per month, with slots for the month and the ID prefix."""
    from portal.extensions import db

    blocks = []
    for (month,) in db.session.execute(sa.text("SELECT DISTINCT month FROM crime_records ORDER BY month")):
        rows = db.session.execute(sa.text(
            "SELECT force, crime_id, crime_type, lsoa_code, lat, lon, locality_id FROM crime_records "
            "WHERE month = :m ORDER BY id"), {"m": month}).all()
        lines = []
        for force, crime_id, kind, lsoa, lat, lon, ward in rows:
            def text(value):
                return "\\N" if value is None else str(value)

            ident = "\\N" if crime_id is None else "\x01" + crime_id[8:]
            lines.append("\t".join(["\x02", force, ident, kind, text(lsoa), text(lat), text(lon), text(ward), "\\N"]))
        blocks.append("\n".join(lines) + "\n")
    return blocks


def add_months(month, n):
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def grow_crime(target, state):
    """COPY shifted copies of the real months until there are about ``target`` crime rows, then count the
    months touched the way the import does (in the same transaction as the rows)."""
    from portal.crime.models import CrimeImport
    from portal.crime.services import _count_month
    from portal.extensions import db

    have = db.session.execute(sa.text("SELECT count(*) FROM crime_records")).scalar()
    if target <= have:
        return
    if "blocks" not in state:
        state["blocks"] = crime_templates()
        state["first"] = db.session.execute(sa.text("SELECT min(month) FROM crime_records")).scalar()
        state["copy"] = 0
    per_block = state["blocks"][0].count("\n")
    touched = set()
    raw = db.session.connection().connection.driver_connection
    big = target - have > 200_000
    if big:  # a bulk load builds its index once at the end, faster than row by row
        db.session.execute(sa.text("DROP INDEX ix_crime_records_month"))
    with raw.cursor() as cur, cur.copy(f"COPY crime_records ({COLUMNS}) FROM STDIN") as copy:
        while have < target:
            j = state["copy"]
            block = state["blocks"][j % len(state["blocks"])]
            month = add_months(state["first"], -1 - j // CRIME_COPIES_PER_MONTH)
            copy.write(block.replace("\x02", month.isoformat()).replace("\x01", f"{j:08x}"))
            touched.add(month)
            have += per_block
            state["copy"] += 1
    if big:
        db.session.execute(sa.text("CREATE INDEX ix_crime_records_month ON crime_records "
                                   "USING brin (month) WITH (autosummarize = on)"))
    force = db.session.execute(sa.text("SELECT min(force) FROM crime_records")).scalar()
    for month in sorted(touched):
        db.session.execute(sa.text("DELETE FROM crime_monthly_counts WHERE month = :m"), {"m": month})
        # The importer counts the rows it writes; these rows were loaded by COPY, so count them here
        # the same way (placed rows by ward and type) and store them with the importer's own code.
        counts = {(ward, kind): n for ward, kind, n in db.session.execute(sa.text(
            "SELECT locality_id, crime_type, count(*) FROM crime_records WHERE month = :m "
            "AND locality_id IS NOT NULL GROUP BY locality_id, crime_type"), {"m": month})}
        _count_month(SimpleNamespace(month=month, force=force), counts)
        db.session.add(CrimeImport(file_name=f"{month:%Y-%m}-bench-street.csv", force=force, month=month,
                                   status="done", rows=per_block * CRIME_COPIES_PER_MONTH))
    db.session.commit()


def roll_up(source):
    from portal.indicators import engine

    started = time.perf_counter()
    engine.rollup(sources=(source,))
    return time.perf_counter() - started


# ---- measuring pages --------------------------------------------------------------------------------

def request_once(app, client, url, statements, cold):
    from portal.extensions import cache

    if cold:
        with app.app_context():
            cache.clear()
    statements.count, statements.timed = 0, []
    started = time.perf_counter()
    response = client.get(url, buffered=False)
    body = response.response
    first = None
    size = 0
    for chunk in body:
        if first is None:
            first = time.perf_counter() - started
        size += len(chunk)
    total = time.perf_counter() - started
    response.close()
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return total, first or total, statements.count, size


def measure(app, page, statements, repeats):
    client, url, public, streamed = page["client"], page["url"], page["public"], page["streamed"]
    runs = [request_once(app, client, url, statements, cold=public)]
    statements.first_request = list(statements.timed)  # a public page's: built, not from the cache
    count = repeats if runs[0][0] < 1 else 2 if runs[0][0] < 5 else 1  # a slow page is not asked again
    runs += [request_once(app, client, url, statements, cold=public) for _ in range(count - 1)]
    result = {"ms": statistics.median(r[0] for r in runs) * 1000, "sql": runs[-1][2], "kb": runs[-1][3] / 1024,
              "first_ms": statistics.median(r[1] for r in runs) * 1000 if streamed else None}
    if public:
        hit = request_once(app, client, url, statements, cold=False)
        result["hit_ms"], result["hit_sql"] = hit[0] * 1000, hit[2]
    if streamed:
        tracemalloc.start()
        request_once(app, client, url, statements, cold=public)
        result["peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return result


def pages(app, ids, clients):
    from portal.extensions import db
    from portal.places.models import Locality

    with app.app_context():
        per_page = 25  # the register's page size (concerns/views.py)
        concerns = db.session.execute(sa.text("SELECT count(*) FROM concerns")).scalar()
        locality = db.session.get(Locality, ids["locality"]).key
    middle = max(1, concerns // per_page // 2)
    public, officer, partner, analyst, adm = (clients[k] for k in ("public", "officer", "partner", "analyst", "admin"))

    def page(name, client, url, public=False, streamed=False):
        return {"name": name, "client": client, "url": url, "public": public, "streamed": streamed}

    return [
        page("home", public, "/", public=True),
        page("public list", public, "/you-said-we-did", public=True),
        page("public list, middle page", public, next_link(app, public, "/you-said-we-did?page=49"), public=True),
        page("public list, middle page by number", public, "/you-said-we-did?page=50", public=True),
        page("map", public, "/map", public=True),
        page("map points JSON", public, "/api/map-points.json", public=True),
        page("locality page", public, f"/places/{locality}", public=True),
        page("Open311 requests", public, "/open311/v2/requests.json", public=True),
        page("API GeoJSON", public, "/api/concerns.geojson", public=True),
        page("public CSV", public, "/api/concerns.csv", public=True, streamed=True),
        page("register page 1", adm, "/concerns/"),
        page("register middle page", adm, next_link(app, adm, f"/concerns/?page={middle - 1}")),
        page("register middle page by number", adm, f"/concerns/?page={middle}"),
        page("register last page", adm, last_page_link(app, adm, "/concerns/")),
        page("register CSV", adm, "/concerns/export.csv", streamed=True),
        page("task list (partner)", partner, "/tasks/"),
        page("concern page", officer, f"/concerns/{ids['concern']}"),
        page("task page", officer, f"/tasks/{ids['task']}"),
        page("strategic assessment", analyst, "/crime/assessment"),
        page("indicator report", analyst, "/indicators/"),
        page("crime imports", analyst, "/crime/imports"),
        page("Bronze meeting page", officer, f"/tasking/meetings/{ids['meeting']}"),
        page("partnership dashboard", analyst, "/dashboard/"),
        page("task list CSV", adm, "/dashboard/tasks.csv", streamed=True),
        page("concern timeline CSV", adm, "/dashboard/concerns.csv", streamed=True),
    ]


def open_meeting(county):
    """A Bronze meeting of the North area through the service: its agenda (with the crime rises) from the data."""
    from portal.extensions import db
    from portal.tasking import meetings

    started = time.perf_counter()
    meeting = meetings.open_meeting(by=county.officer, area_id=county.officer.areas[0].id, held_on=date.today())
    db.session.commit()
    return meeting.id, len(meeting.items), time.perf_counter() - started


# ---- the run ----------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1k,10k,100k", help="concerns (and as many tasks) per stage")
    parser.add_argument("--crime", default="21k,1M,5M", help="crime rows per stage")
    parser.add_argument("--repeat", type=int, default=5, help="requests per page (median)")
    parser.add_argument("--budget", type=float, default=5.0,
                        help="seconds; a slower page (other than ALWAYS) is not requested at larger stages")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end, to look into a page")
    parser.add_argument("--slowest", type=int, default=0, help="print each page's N slowest SQL statements")
    parser.add_argument("--only", default="", help="page names to measure, separated by semicolons (default: all)")
    args = parser.parse_args()
    scales = [amount(s) for s in args.scales.split(",")]
    crime = [amount(s) for s in args.crime.split(",")]
    stages = [(scales[min(i, len(scales) - 1)], crime[min(i, len(crime) - 1)])
              for i in range(max(len(scales), len(crime)))]

    name = f"portal_bench_scale_{os.getpid()}"
    admin(f"DROP DATABASE IF EXISTS {name}")
    admin(f"CREATE DATABASE {name}")
    try:
        run(ADMIN.rsplit("/", 1)[0] + f"/{name}", stages, args)
    finally:
        if args.keep:
            print(f"\nKept the database {name} (drop it when done)")
        else:
            admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run(url, stages, args):
    from portal.extensions import db

    began = time.perf_counter()
    app, _ = seeded_database(url)
    app.config["PUBLIC_CACHE_SECONDS"] = 5  # as in production: the data version is looked up every 5 s
    results, notes, skipped, state = [], [], set(), {}
    with app.app_context():
        statements = Statements(db.engine)
    clients = {"public": app.test_client(), **{role: sign_in(app, f"{role}@demo.shropshire-csp.example.org")
                                               for role in ("officer", "partner", "analyst", "admin")}}
    for concerns, crime_rows in stages:
        with app.app_context():
            county = County()
            started = time.perf_counter()
            if not state.get("sampled"):
                state["concern"], state["task"] = sample_through_services(county, SAMPLE_CONCERNS, SAMPLE_TASKS)
                state["sampled"] = True
            grow_concerns_and_tasks(county, concerns)
            grow_crime(crime_rows, state)
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
            rollup = roll_up("police_crime")
            meeting, items, opened = open_meeting(county)
            # The portal's own figures, as the worker computes them after a change (never in a request).
            portal_rollup = roll_up("portal")
            concern = db.session.get(__import__("portal.concerns.models", fromlist=["Concern"]).Concern,
                                     state["concern"])
            ids = {"concern": state["concern"], "task": state["task"], "meeting": meeting,
                   "locality": concern.locality.parent_id or concern.locality_id}
            counted = db.session.execute(sa.text(
                "SELECT (SELECT count(*) FROM concerns), (SELECT count(*) FROM tasks), "
                "(SELECT count(*) FROM crime_records), (SELECT count(*) FROM concerns WHERE published)")).one()
            db.session.remove()
        label = f"{counted[0]:,} concerns / {counted[2]:,} crime rows"
        notes.append(f"{label}: {counted[1]:,} tasks, {counted[3]:,} published; built in "
                     f"{time.perf_counter() - started:.0f} s; crime rollup {rollup:.2f} s; "
                     f"portal figures' rollup {portal_rollup:.2f} s; "
                     f"Bronze meeting opened with {items:,} agenda items in {opened:.2f} s")
        print(notes[-1], flush=True)
        row = {}
        for page in pages(app, ids, clients):
            if args.only and page["name"] not in args.only.split(";"):
                continue
            if page["name"] in skipped:
                row[page["name"]] = None
                continue
            row[page["name"]] = measure(app, page, statements, args.repeat)
            print(f"  {page['name']:<28} {row[page['name']]['ms']:>10.1f} ms {row[page['name']]['sql']:>5} SQL",
                  flush=True)
            for seconds, statement in statements.slowest(args.slowest):  # of the page's first request
                print(f"      {seconds * 1000:8.1f} ms  {' '.join(statement.split())[:160]}")
            if row[page["name"]]["ms"] > args.budget * 1000 and page["name"] not in ALWAYS:
                skipped.add(page["name"])
        results.append((label, row))
    print_table(results)
    print("\n" + "\n".join(notes))
    print(f"\nWhole run: {time.perf_counter() - began:.0f} s")


def print_table(results):
    """A Markdown table: one row per page, per stage its time and statements, and the ratio to stage one."""
    labels = [label for label, _ in results]
    header = ["Page"] + [f"{label}: ms (SQL)" for label in labels] + [f"x stage 1 at {lb}" for lb in labels[1:]]
    print("\n| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    names = list(results[0][1])
    for name in names:
        first = results[0][1].get(name)
        cells = [name]
        for _, row in results:
            r = row.get(name)
            if r is None:
                cells.append("not run (over budget)")
                continue
            extra = []
            if r.get("first_ms") is not None:
                extra.append(f"first byte {r['first_ms']:,.0f} ms, peak {r['peak_mb']:.1f} MB")
            if r.get("hit_ms") is not None:
                extra.append(f"hit {r['hit_ms']:,.1f} ms ({r['hit_sql']})")
            cells.append(f"{r['ms']:,.1f} ({r['sql']})" + (f"; {'; '.join(extra)}" if extra else ""))
        for _, row in results[1:]:
            r = row.get(name)
            cells.append(f"{r['ms'] / first['ms']:.2f}x" + ("" if r['sql'] == first['sql'] else
                                                            f", SQL {r['sql']}/{first['sql']}")
                         if r and first else "")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
