"""Seed data (files in this folder) and the loaders that put it in the database."""
