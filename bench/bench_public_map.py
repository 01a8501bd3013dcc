"""The public map with 10,000 published concerns: bytes transferred, time to interactive in Chromium,
and requests per second of the cached map page against a static file from the same gunicorn.

    .venv/bin/python bench/bench_public_map.py [--concerns 10000] [--seconds 5]

Targets (issue 6): under 1 MB transferred, interactive in under 1.5 s, map page at least 80% of
the static file's requests per second.
"""
import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import date, timedelta

from common import ROOT, report, seeded_database


def add_published_concerns(app, count):
    from sqlalchemy import insert, select

    from portal.concerns.models import Concern, ConcernCategory
    from portal.extensions import db
    from portal.places.models import Locality

    rng = random.Random(2010)
    with app.app_context():
        places = db.session.execute(select(Locality.id).where(
            Locality.level.in_(("neighbourhood", "ward")))).scalars().all()
        categories = db.session.execute(select(ConcernCategory.id)).scalars().all()
        statuses = ["new", "in_progress", "responded", "responded", "closed"]
        rows = []
        for i in range(count):
            status = rng.choice(statuses)
            raised = date(2008, 4, 1) + timedelta(days=rng.randrange(900))
            rows.append(dict(locality_id=rng.choice(places), category_id=rng.choice(categories), source="pact",
                             raised_on=raised, you_said=f"Residents raised concern {i} about their street",
                             status=status,
                             we_did="Partners patrolled and reported back" if status in ("responded", "closed") else "",
                             responded_on=raised + timedelta(days=20) if status in ("responded", "closed") else None,
                             published=True, raised_count=1, is_demo=True, internal_notes="", street="",
                             status_reason="", is_priority=False, version_id=1))
        db.session.execute(insert(Concern), rows)
        db.session.commit()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url, port):
    env = dict(os.environ, DATABASE_URL=url, PORTAL_ENV="development", DEMO_ACCOUNTS="0", RATELIMIT_ENABLED="0",
               PUBLIC_CACHE_SECONDS="5")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app",
                             "--log-level", "warning"], cwd=ROOT, env=env)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def requests_per_second(url, seconds, threads=8):
    done, stop = [0] * threads, time.monotonic() + seconds

    def hammer(i):
        while time.monotonic() < stop:
            with urllib.request.urlopen(url, timeout=10) as response:
                response.read()
            done[i] += 1

    workers = [threading.Thread(target=hammer, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done) / seconds


def browser_figures(base):
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
        context = browser.new_context()
        context.route("https://*/**", lambda route: route.abort())  # tiles: not part of the page's own weight
        page = context.new_page()
        page.goto(f"{base}/map")  # warm the server's cache, as a busy day would
        runs = []
        for _ in range(3):
            page = context.new_page()
            page.goto(f"{base}/map", wait_until="commit")
            page.wait_for_function("() => document.getElementById('public-map') && "
                                   "document.getElementById('public-map').dataset.markers !== undefined", timeout=30000)
            figures = page.evaluate("""() => {
                const nav = performance.getEntriesByType('navigation')[0];
                const bytes = [nav, ...performance.getEntriesByType('resource')]
                    .filter(e => e.name.startsWith(location.origin))
                    .reduce((sum, e) => sum + (e.transferSize || e.encodedBodySize || 0), 0);
                return {bytes, interactive: performance.now(), """
                                    """markers: +document.getElementById('public-map').dataset.markers};
            }""")
            runs.append(figures)
            page.close()
        browser.close()
    return min(runs, key=lambda r: r["interactive"]), runs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--concerns", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    app, url = seeded_database()
    add_published_concerns(app, args.concerns)
    port = free_port()
    server = start_gunicorn(url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        best, runs = browser_figures(base)
        urllib.request.urlopen(f"{base}/map").read()
        static_rps = requests_per_second(f"{base}/static/css/portal.css", args.seconds)
        map_rps = requests_per_second(f"{base}/map", args.seconds)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    print(f"database: {url.split('://')[0]}, published concerns on the map: {best['markers']:,}")
    report("Public map page in Chromium (best of 3, warm server cache)", [
        ("bytes transferred", best["bytes"] / 1024, "KiB", "target < 1024 KiB"),
        ("time to interactive (markers drawn)", best["interactive"], "ms", "target < 1500 ms"),
    ])
    report(f"Requests per second, gunicorn -w 2, 8 client threads, {args.seconds:g} s each", [
        ("static file /static/css/portal.css (baseline)", static_rps, "req/s", ""),
        ("cached map page /map", map_rps, "req/s", ""),
        ("ratio map / static", 100 * map_rps / static_rps, "%", "target >= 80 %"),
    ])


if __name__ == "__main__":
    main()
