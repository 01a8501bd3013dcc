"""Headless Chromium through Playwright."""
