from datetime import datetime
from typing import Optional

from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, String, Table, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..access import ADMIN, ANALYST, OFFICER, PARTNER, ROLE_LABELS
from ..extensions import db
from ..models import utcnow
from ..partners.models import Organisation
from ..places.models import Locality

user_areas = Table(
    "user_areas",
    db.metadata,
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("locality_id", ForeignKey("localities.id"), primary_key=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisations.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the id kept in the session (get_id): raising it signs the account out of every browser.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Made by the seed for development; never signs in when PORTAL_ENV=production (people/policy.py).
    is_demo: Mapped[bool] = mapped_column(default=False, server_default=false())
    last_login_at: Mapped[Optional[datetime]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Optional[Organisation]] = relationship()
    areas: Mapped[list[Locality]] = relationship(secondary=user_areas, order_by=Locality.name)

    def set_password(self, password):
        # Werkzeug's default is scrypt with a per-password salt.
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        """What Flask-Login keeps in the session: the id and the session version (see load_user)."""
        return f"{self.id}:{self.session_version}"

    def end_sessions(self):
        """Sign this account out of every browser: their sessions carry the old version."""
        self.session_version = (self.session_version or 1) + 1

    @property
    def role_label(self):
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def is_admin(self):
        return self.role == ADMIN

    @property
    def is_officer(self):
        return self.role == OFFICER

    @property
    def is_partner(self):
        return self.role == PARTNER

    @property
    def is_analyst(self):
        return self.role == ANALYST

    @property
    def area_ids(self):
        return {a.id for a in self.areas}

    def covers(self, area):
        """True for an admin, or an officer one of whose areas this is (an area, or its id; None covers
        nothing but for an admin): the "admin or one of my areas" rule every feature asks."""
        if self.is_admin:
            return True
        area_id = getattr(area, "id", area)
        return self.is_officer and area_id is not None and area_id in self.area_ids

    def __repr__(self):
        return f"<User {self.email} {self.role}>"
