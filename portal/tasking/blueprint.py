"""The tasking blueprint, shared by the modules whose views it holds (views.py, meeting_views.py)."""
from flask import Blueprint

bp = Blueprint("tasking", __name__)
