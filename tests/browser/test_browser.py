"""The browser tests are split by journey (test_public.py, test_officer.py, ...); their helpers live in
conftest.py. These names stay importable from here for code written against the old single file."""
from .conftest import (  # noqa: F401
    ARTIFACTS,
    AXE,
    CHROMIUM_FLAGS,
    chromium,
    chromium_path,
    live_server,
    new_page,
    open_a_popup,
    page,
    serious_violations,
    shot,
    sign_in,
    with_axe,
)
