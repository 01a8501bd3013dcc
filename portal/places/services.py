"""Localities: the tree the partnership reports on, and the admin's edits to it."""
from flask import g
from sqlalchemy import func, select

from ..errors import PortalError
from ..extensions import db
from .models import LEVELS, Locality

# A child sits exactly one level below its parent.
PARENT_LEVEL = {"area": "county", "neighbourhood": "area", "ward": "neighbourhood"}


def tree():
    """Every locality ordered as county, then each area, its neighbourhoods and their wards."""
    rows = db.session.execute(select(Locality).order_by(Locality.name)).scalars().all()
    children = {}
    for loc in rows:
        children.setdefault(loc.parent_id, []).append(loc)
    ordered = []

    def walk(parent_id, depth):
        for loc in children.get(parent_id, []):
            ordered.append((depth, loc))
            walk(loc.id, depth + 1)

    walk(None, 0)
    return ordered


def areas():
    return db.session.execute(select(Locality).where(Locality.level == "area").order_by(Locality.name)).scalars().all()


def choices_below_area(area_ids=None):
    """(id, label) for localities an officer can log against: neighbourhoods and wards."""
    query = select(Locality).where(Locality.level.in_(("neighbourhood", "ward")), Locality.active)
    out = []
    for loc in db.session.execute(query).scalars():
        area = loc.area
        if area_ids is not None and (area is None or area.id not in area_ids):
            continue
        label = f"{loc.name} ({loc.parent.name})" if loc.level == "ward" else loc.name
        out.append((loc.id, label))
    return sorted(out, key=lambda pair: pair[1])


def find_by_name(text):
    """Localities whose name or alias contains the text (residents search by town name)."""
    needle = text.strip().lower()
    if not needle:
        return []
    rows = db.session.execute(select(Locality).where(Locality.active)).scalars()
    return [loc for loc in rows
            if needle in loc.name.lower() or any(needle in a.lower() for a in (loc.aliases or []))]


def save_locality(loc, *, key, name, level, parent, population, population_source, population_estimated,
                  aliases, active):
    """Create or change a locality. Flushes; returns (locality, figures_move): whether its population,
    place in the tree or being active changed, so the stored indicator figures need a rollup."""
    if level not in LEVELS:
        raise PortalError("Choose a level", field="level")
    wanted = PARENT_LEVEL.get(level)
    if wanted is None and parent is not None:
        raise PortalError("The county has no parent", field="parent")
    if wanted and (parent is None or parent.level != wanted):
        raise PortalError(f"A {level} must sit under a {wanted}", field="parent")
    clash = db.session.execute(select(Locality).where(func.lower(Locality.key) == key.lower())).scalar_one_or_none()
    if clash is not None and clash is not loc:
        raise PortalError(f"The key '{key}' is already used by {clash.name}", field="key")
    if loc is None:
        loc = Locality()
        db.session.add(loc)
    figures_move = loc.id is None or (loc.population, loc.parent, loc.active) != (population, parent, active)
    loc.key, loc.name, loc.level, loc.parent = key, name.strip(), level, parent
    loc.population, loc.population_source = population, (population_source or "").strip() or None
    loc.population_estimated, loc.aliases, loc.active = population_estimated, aliases, active
    db.session.flush()
    return loc, figures_move


def hold_localities():
    """Every locality, loaded in one query and held for the rest of the request (``g``): a row's
    ``locality``, its ``parent``, ``area`` and ``ancestors()`` are then read from the session, never
    sent as SQL, so a page's statements do not grow with the rows it shows. There are a few hundred."""
    if "localities" not in g:
        g.localities = db.session.execute(select(Locality)).scalars().all()
    return g.localities


def descendants_map():
    """{locality id: ids of it and everything below it}, from one query (for per-locality reports)."""
    rows = db.session.execute(select(Locality.id, Locality.parent_id)).all()
    children = {}
    for locality_id, parent_id in rows:
        children.setdefault(parent_id, []).append(locality_id)
    below = {}

    def walk(locality_id):
        ids = {locality_id}
        for child in children.get(locality_id, []):
            ids |= walk(child)
        below[locality_id] = ids
        return ids

    for root in children.get(None, []):
        walk(root)
    return below
