"""The concerns blueprint, shared by the modules whose views it holds (views.py, category_views.py)."""
from flask import Blueprint

from ..access import ADMIN, ANALYST, OFFICER

bp = Blueprint("concerns", __name__, url_prefix="/concerns")
STAFF = (OFFICER, ADMIN, ANALYST)
