"""The beat schedule: one table, one entry per periodic job (added as features need them).
The task names are stable ("notifications.overdue_reminders" runs portal.tasking.reminders)."""
from celery.schedules import crontab

BEAT_SCHEDULE = {
    "overdue-task-reminders": {"task": "notifications.overdue_reminders", "schedule": crontab(hour=7, minute=0)},
    "weekly-partner-digest": {"task": "notifications.weekly_digest",
                              "schedule": crontab(hour=7, minute=30, day_of_week="mon")},
    "deliver-outbox": {"task": "notifications.deliver", "schedule": crontab(minute="*/5")},
    # police.uk publishes a month's data in the second half of the next month
    "monthly-crime-rollup": {"task": "indicators.rollup", "schedule": crontab(hour=3, minute=0, day_of_month=28),
                             "kwargs": {"sources": ["police_crime"]}},
    # An upload whose worker was lost and that no worker took back is shown failed, with a retry.
    "fail-stale-crime-uploads": {"task": "crime.fail_stale_uploads", "schedule": crontab(minute="*/10")},
    # Residents following a place: one digest a day at most, only when there is news (portal/following).
    "daily-follower-digest": {"task": "following.send_digests", "schedule": crontab(hour=7, minute=15)},
    "nightly-portal-indicators": {"task": "indicators.rollup_portal", "schedule": crontab(hour=2, minute=0)},
    # A resident's address is kept until their concern is closed, and never longer than REPORT_EMAIL_DAYS.
    "forget-old-resident-addresses": {"task": "reporting.forget_old_addresses", "schedule": crontab(hour=4, minute=0)},
    # A link to each newly issued PMCG pack for the distribution list (PMCG_DISTRIBUTION); once per pack.
    "announce-issued-pmcg-packs": {"task": "pack.announce_issued", "schedule": crontab(minute="*/10")},
}
