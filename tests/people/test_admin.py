"""Admins manage partner organisations and localities through the web pages."""
from sqlalchemy import select

from portal.extensions import db
from portal.partners.models import Organisation
from portal.places.models import Locality

from ..conftest import text_of


def test_admin_adds_and_renames_a_partner(as_role):
    admin = as_role("admin")
    response = admin.post("/admin/partners/new", {"name": "Shropshire Rural Housing", "short_name": "SRH",
                                                   "kind": "housing", "aliases": "SRHA, Rural Housing", "active": "y"})
    assert response.status_code == 302
    org = db.session.execute(select(Organisation).filter_by(name="Shropshire Rural Housing")).scalar_one()
    assert org.aliases == ["SRHA", "Rural Housing"]
    admin.post(f"/admin/partners/{org.id}", {"name": "Shropshire Rural Housing Association", "short_name": "SRHA",
                                             "kind": "housing", "aliases": "", "active": "y"})
    assert "Shropshire Rural Housing Association" in text_of(admin.get("/admin/partners/"))


def test_a_duplicate_partner_name_is_refused(as_role):
    admin = as_role("admin")
    count = db.session.query(Organisation).count()
    response = admin.post("/admin/partners/new", {"name": "west mercia police", "kind": "police"})
    assert response.status_code == 400
    assert "There is already a partner called West Mercia Police" in text_of(response)
    assert db.session.query(Organisation).count() == count


def test_admin_adds_a_village_under_a_neighbourhood(as_role):
    admin = as_role("admin")
    ludlow = db.session.execute(select(Locality).filter_by(name="Ludlow", level="neighbourhood")).scalar_one()
    response = admin.post("/admin/localities/new", {
        "name": "Clee Hill", "key": "clee-hill", "level": "ward", "parent": str(ludlow.id),
        "population": "1200", "population_source": "Parish plan 2010", "aliases": "Cleehill", "active": "y"})
    assert response.status_code == 302
    village = db.session.execute(select(Locality).filter_by(key="clee-hill")).scalar_one()
    assert village.area.name == "South" and village.aliases == ["Cleehill"]


def test_a_locality_in_the_wrong_place_of_the_tree_is_refused(as_role):
    admin = as_role("admin")
    county = db.session.execute(select(Locality).filter_by(level="county")).scalar_one()
    response = admin.post("/admin/localities/new", {
        "name": "Nowhere", "key": "nowhere", "level": "ward", "parent": str(county.id), "active": "y"})
    assert response.status_code == 400
    assert "A ward must sit under a neighbourhood" in text_of(response)
    response = admin.post("/admin/localities/new", {
        "name": "Bad", "key": "Bad Key!", "level": "area", "parent": str(county.id), "population": "-4"})
    page = text_of(response)
    assert "Use lower-case letters, digits and hyphens only" in page and "Population cannot be negative" in page
    assert db.session.execute(select(Locality).filter_by(name="Nowhere")).first() is None
