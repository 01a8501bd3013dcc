"""Real Celery workers against Redis and PostgreSQL."""
