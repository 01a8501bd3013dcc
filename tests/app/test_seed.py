"""The seed data: Shropshire's places, the partners and the 2010-11 delivery plan, loaded idempotently."""
import csv
import json

import pytest
from sqlalchemy import func, select

from portal.config import ROOT
from portal.extensions import db
from portal.maintenance import count_rows, load_seed
from portal.partners.models import Organisation
from portal.places.models import Locality, LocalityLsoa
from portal.plan.models import Action, IndicatorDefinition

from ..conftest import text_of

SEED = ROOT / "seed"
PLAN = json.loads((SEED / "delivery_plan_2010_11.json").read_text())


@pytest.mark.both_databases
def test_seeding_twice_creates_nothing_new(app, backend):
    before = count_rows()
    created = load_seed(demo_accounts=True)
    db.session.commit()
    assert set(created.values()) == {0}
    assert count_rows() == before


@pytest.mark.both_databases
def test_shropshire_has_three_areas_and_its_market_towns(app, backend):
    county = db.session.execute(select(Locality).filter_by(level="county")).scalar_one()
    assert county.name == "Shropshire"
    assert sorted(a.name for a in county.children) == ["Central", "North", "South"]
    neighbourhoods = db.session.execute(select(Locality).filter_by(level="neighbourhood")).scalars().all()
    # Church Stretton and Craven Arms share a ward, so they share a neighbourhood (named after both).
    names = {part for n in neighbourhoods for part in [n.name, *n.aliases, *n.name.split(" and ")]}
    for town in ("Shrewsbury", "Oswestry", "Whitchurch", "Market Drayton", "Wem", "Ellesmere", "Bridgnorth",
                 "Ludlow", "Church Stretton", "Bishop's Castle", "Craven Arms", "Cleobury Mortimer",
                 "Much Wenlock", "Shifnal", "Albrighton", "Broseley"):
        assert town in names
    oswestry = db.session.execute(select(Locality).filter_by(name="Oswestry", level="neighbourhood")).scalar_one()
    assert oswestry.area.name == "North"
    ludlow = db.session.execute(select(Locality).filter_by(name="Ludlow", level="neighbourhood")).scalar_one()
    assert ludlow.area.name == "South"


def test_every_lsoa_of_the_boundaries_belongs_to_exactly_one_ward(app):
    boundary = json.loads((SEED / "boundaries" / "lsoa_E06000051.geojson").read_text())
    codes = {f["properties"]["LSOA11CD"] for f in boundary["features"]}
    ward_rows = db.session.execute(
        select(LocalityLsoa.lsoa_code).join(Locality).where(Locality.level == "ward")).scalars().all()
    assert sorted(ward_rows) == sorted(codes)
    county = db.session.execute(select(Locality).filter_by(level="county")).scalar_one()
    assert len(county.lsoa_codes) == len(codes)


def test_populations_say_where_they_come_from(app):
    for loc in db.session.execute(select(Locality)).scalars():
        assert loc.population and loc.population > 0, loc.name
        assert loc.population_source, loc.name
    county = db.session.execute(select(Locality).filter_by(level="county")).scalar_one()
    areas = db.session.execute(select(func.sum(Locality.population)).filter_by(level="area")).scalar_one()
    assert abs(areas - county.population) <= 3  # apportioned shares add back up (rounding)


def test_every_partner_the_plan_names_is_seeded_once(app):
    with open(SEED / "partners.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    names = [r["name"] for r in rows]
    assert len(names) == len(set(names))
    stored = set(db.session.execute(select(Organisation.name)).scalars())
    assert set(names) <= stored
    for name in ("West Mercia Police", "Shropshire Council", "Registered Social Landlords", "Women's Aid",
                 "Neighbourhood Watch"):
        assert name in stored


def test_every_action_of_the_source_table_is_seeded(app):
    titles = [a["title"] for t in PLAN["themes"] for a in t["actions"]]
    stored = set(db.session.execute(select(Action.title)).scalars())
    assert set(titles) == stored
    codes = [i["code"] for t in PLAN["themes"] for a in t["actions"] for i in a.get("indicators", [])]
    codes += [i["code"] for i in PLAN.get("portal_indicators", [])]
    assert db.session.execute(select(func.count()).select_from(IndicatorDefinition)).scalar_one() == len(codes)


def test_the_plan_page_shows_themes_actions_partners_and_ni_codes(as_role):
    page = as_role("partner").get("/plan/").get_data(as_text=True)
    for theme in PLAN["themes"]:
        assert theme["name"].replace("&", "&amp;").replace("'", "&#39;") in page
        for action in theme["actions"]:
            for ni in action.get("ni_codes", []):
                assert ni in page
    assert "West Mercia Police" in page


def _seed_again(app):
    """`flask seed --demo`, as `make run` runs it on every start."""
    result = app.test_cli_runner().invoke(args=["seed", "--demo"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


@pytest.mark.both_databases
def test_seeding_again_keeps_what_an_admin_edited(app, backend, as_role):
    from portal.concerns.models import ConcernCategory
    from portal.people.models import User

    from ..conftest import DEMO_EMAILS

    admin = as_role("admin")
    wem = db.session.execute(select(Locality).filter_by(key="wem")).scalar_one()
    response = admin.post(f"/admin/localities/{wem.id}", {
        "name": "Wem Town", "key": "wem-town", "level": wem.level, "parent": str(wem.parent_id),
        "population": "6100", "population_source": "Town council 2010", "aliases": "Wem", "active": "y"})
    assert response.status_code == 302, text_of(response)
    aid = db.session.execute(select(Organisation).filter_by(name="Women's Aid")).scalar_one()
    response = admin.post(f"/admin/partners/{aid.id}", {"name": "West Mercia Women's Aid", "short_name": "WMWA",
                                                        "kind": aid.kind, "aliases": "", "active": "y"})
    assert response.status_code == 302, text_of(response)
    category = db.session.execute(select(ConcernCategory).order_by(ConcernCategory.id)).scalars().first()
    assert admin.post(f"/concerns/categories/{category.id}/retire").status_code == 302
    indicator = db.session.execute(select(IndicatorDefinition).where(
        IndicatorDefinition.target.is_not(None)).order_by(IndicatorDefinition.code)).scalars().first()
    indicator.target = indicator.target + 7.5  # the partnership agreed a new target
    user = db.session.execute(select(User).filter_by(email=DEMO_EMAILS["officer"])).scalar_one()
    user.email, user.display_name = "olivia.officer@westmercia.police.example", "PC Olivia Jones"
    db.session.commit()
    ids = (wem.id, aid.id, category.id, indicator.id, user.id)
    edited_target = indicator.target
    before = count_rows()

    output = _seed_again(app)

    assert count_rows() == before, output  # nothing duplicated, nothing re-created
    wem, aid, category, indicator, user = (db.session.get(model, i) for model, i in zip(
        (Locality, Organisation, ConcernCategory, IndicatorDefinition, User), ids, strict=True))
    assert (wem.name, wem.key, wem.population, wem.aliases) == ("Wem Town", "wem-town", 6100, ["Wem"])
    assert (aid.name, aid.short_name) == ("West Mercia Women's Aid", "WMWA")
    assert category.retired
    assert indicator.target == edited_target
    assert (user.email, user.display_name) == ("olivia.officer@westmercia.police.example", "PC Olivia Jones")
    page = text_of(admin.get("/admin/localities/"))
    assert "Wem Town" in page
    assert "Women's Aid" not in text_of(admin.get("/admin/partners/")).replace("West Mercia Women's Aid", "")


def test_a_database_seeded_before_the_seed_kept_records_keeps_its_edits_too(app):
    """Databases seeded by an older portal have no record of what the seed inserted: their rows are adopted
    as they are."""
    from sqlalchemy import delete

    from portal.maintenance import SeedRecord

    db.session.execute(delete(SeedRecord))
    wem = db.session.execute(select(Locality).filter_by(key="wem")).scalar_one()
    wem.name = "Wem Town"
    indicator = db.session.execute(select(IndicatorDefinition).where(
        IndicatorDefinition.target.is_not(None)).order_by(IndicatorDefinition.code)).scalars().first()
    indicator.target, edited = indicator.target + 1, indicator.target + 1
    db.session.commit()
    before = count_rows()
    _seed_again(app)
    assert db.session.get(Locality, wem.id).name == "Wem Town"
    assert db.session.get(IndicatorDefinition, indicator.id).target == edited
    assert {k: v for k, v in count_rows().items() if k != "seed_records"} == {
        k: v for k, v in before.items() if k != "seed_records"}
    created = load_seed(demo_accounts=True)
    assert set(created.values()) == {0}


def test_a_fresh_database_gets_every_seed_row(tmp_path):
    from portal import create_app
    from portal.concerns.models import ConcernCategory
    from portal.config import TestConfig

    from ..conftest import build

    app = create_app(TestConfig(database_url=f"sqlite:///{tmp_path / 'fresh.db'}"))
    build(app)
    with app.app_context():
        localities = json.loads((SEED / "localities.json").read_text())["localities"]
        assert db.session.execute(select(func.count()).select_from(Locality)).scalar_one() == len(localities)
        with open(SEED / "partners.csv", newline="", encoding="utf-8") as fh:
            assert set(db.session.execute(select(Organisation.name)).scalars()) == {
                r["name"].strip() for r in csv.DictReader(fh)}
        with open(SEED / "concern_categories.csv", newline="", encoding="utf-8") as fh:
            assert db.session.execute(select(func.count()).select_from(ConcernCategory)).scalar_one() == len(
                list(csv.DictReader(fh)))
        codes = [i["code"] for t in PLAN["themes"] for a in t["actions"] for i in a.get("indicators", [])]
        codes += [i["code"] for i in PLAN.get("portal_indicators", [])]
        assert sorted(db.session.execute(select(IndicatorDefinition.code)).scalars()) == sorted(codes)
        wem = db.session.execute(select(Locality).filter_by(key="wem")).scalar_one()
        assert wem.parent is not None and wem.area is not None and wem.lsoa_codes
        db.session.remove()
        db.engine.dispose()
