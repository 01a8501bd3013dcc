from celery import shared_task

from portal.maintenance import count_rows, load_seed


@shared_task(name="maintenance.count_rows")
def count_rows_task():
    """How many rows each table holds: the data integrity check."""
    return count_rows()


@shared_task(name="maintenance.load_seed")
def load_seed_task():
    """Insert the seed data that is missing (never overwrites); returns what was created per table."""
    return load_seed()
