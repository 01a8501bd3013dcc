from typing import Optional

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

LEVELS = ("county", "area", "neighbourhood", "ward")
LEVEL_LABELS = {"county": "County", "area": "Area", "neighbourhood": "Neighbourhood", "ward": "Ward, town or village"}


class Locality(db.Model):
    """A place the partnership reports on: county, area, neighbourhood or ward."""

    __tablename__ = "localities"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(20), index=True)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("localities.id"), index=True)
    population: Mapped[Optional[int]]
    population_source: Mapped[Optional[str]] = mapped_column(String(300))
    population_estimated: Mapped[bool] = mapped_column(default=True)
    centre_lat: Mapped[Optional[float]]
    centre_lon: Mapped[Optional[float]]
    ward_code: Mapped[Optional[str]] = mapped_column(String(12))
    aliases: Mapped[list] = mapped_column(db.JSON, default=list)
    boundary: Mapped[Optional[dict]] = mapped_column(db.JSON, deferred=True)
    active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Optional["Locality"]] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Locality"]] = relationship(back_populates="parent", order_by="Locality.name")
    lsoas: Mapped[list["LocalityLsoa"]] = relationship(
        back_populates="locality", cascade="all, delete-orphan", order_by="LocalityLsoa.lsoa_code"
    )

    @property
    def lsoa_codes(self):
        return [row.lsoa_code for row in self.lsoas]

    @property
    def level_label(self):
        return LEVEL_LABELS.get(self.level, self.level)

    def ancestors(self):
        node, chain = self.parent, []
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    @property
    def area(self):
        """The North/Central/South area this locality sits in (itself if an area)."""
        if self.level == "area":
            return self
        return next((a for a in self.ancestors() if a.level == "area"), None)

    def __repr__(self):
        return f"<Locality {self.key}>"


class LocalityLsoa(db.Model):
    """The LSOAs a locality covers: how police.uk rows are tied to places."""

    __tablename__ = "locality_lsoas"

    locality_id: Mapped[int] = mapped_column(ForeignKey("localities.id"), primary_key=True)
    lsoa_code: Mapped[str] = mapped_column(String(12), primary_key=True, index=True)

    locality: Mapped[Locality] = relationship(back_populates="lsoas")


def descendant_ids(locality_id):
    """Ids of a locality and everything below it, as a recursive CTE subquery."""
    tree = select(Locality.id).where(Locality.id == locality_id).cte("tree", recursive=True)
    tree = tree.union_all(select(Locality.id).where(Locality.parent_id == tree.c.id))
    return select(tree.c.id)
