from sqlalchemy import func, select

from ..errors import PortalError
from ..extensions import db
from .models import Organisation


def all_organisations(active_only=False):
    query = select(Organisation).order_by(Organisation.name)
    if active_only:
        query = query.where(Organisation.active)
    return db.session.execute(query).scalars().all()


def save_organisation(org, *, name, short_name, kind, aliases, active):
    name = name.strip()
    clash = db.session.execute(
        select(Organisation).where(func.lower(Organisation.name) == name.lower())).scalar_one_or_none()
    if clash is not None and clash is not org:
        raise PortalError(f"There is already a partner called {clash.name}", field="name")
    if org is None:
        org = Organisation()
        db.session.add(org)
    org.name, org.short_name, org.kind, org.aliases, org.active = name, short_name.strip(), kind, aliases, active
    db.session.commit()
    return org
