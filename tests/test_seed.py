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
