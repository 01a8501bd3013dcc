"""Accounts, sign-in and the admin pages."""
