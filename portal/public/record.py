"""PublicConcern: the one shape in which a concern leaves the server for the public.

The privacy rule is this type: it has no field for the stored point, the street, internal notes, the
PACT meeting's notes or who logged or changed the concern, and it refuses any other field
(``extra="forbid"``). The map, the list, the open-data API, Open311 and the OpenAPI schema
(openapi.py, from ``model_json_schema()``) all come from it, so the schema cannot drift from the data.
"""
from datetime import date
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

PublicStatus = Literal["raised", "in_hand", "responded", "no_further_action", "escalated"]


class PublicConcern(BaseModel):
    """A published concern, as residents see it. Points are the centre of the concern's locality."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="PublicConcern")

    id: int
    category: str
    group: str
    locality: str
    locality_key: str
    area: Optional[str] = Field(description="North, Central or South Shropshire")
    you_said: str
    raised_on: date
    residents: int = Field(description="How many residents raised it")
    priority: bool = Field(description="An agreed PACT priority")
    status: PublicStatus
    status_label: str
    we_did: str = Field(description="What the partnership did; empty until it has responded")
    responded_on: Optional[date]
    reason: str = Field(description="Why no further action is taken, or why it was passed to the county (Silver) "
                                    "tasking group, written for residents; empty in the other statuses")
    decided_on: Optional[date] = Field(description="When no further action was decided, or it was passed to the "
                                                   "county group")
    lat: Optional[float] = Field(description="The locality's centre, never the concern's own point")
    lon: Optional[float] = Field(description="The locality's centre, never the concern's own point")
    demo: bool = Field(description="Demonstration data, not a real concern")


def public_concern_schema():
    """The JSON Schema (OpenAPI 3.1) of a PublicConcern as it is served."""
    return PublicConcern.model_json_schema(mode="serialization")
