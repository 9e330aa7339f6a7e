"""Persistence: the schema (`models`), engines and sessions (`session`), migrations (`migrate`).

Kept free of imports so that reading settings (which needs only `url`) does not pull in
SQLAlchemy; import what you need from the submodules.
"""
