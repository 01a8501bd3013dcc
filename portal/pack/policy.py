"""Who may do what with the PMCG pack (the routes' @allow say the same; the services check it too,
so a task, the CLI or a crafted request cannot skip it).

- Analysts and admins write the commentary and issue the pack: they own the PMCG report.
- Analysts, admins and neighbourhood officers open the drafts and download issued packs: the
  pack's commentary can discuss operations, offenders and areas beyond a partner's own tasks, and a
  partner account sees only its organisation's tasks everywhere else in the portal, so partners
  are refused (the partnership's members read the pack through the PMCG's own distribution).
"""
from ..access import ADMIN, ANALYST, OFFICER

WRITERS = (ANALYST, ADMIN)
READERS = (ANALYST, ADMIN, OFFICER)


def may_write(user):
    return user is not None and user.role in WRITERS


def may_read(user):
    return user is not None and user.role in READERS
