"""Catalog upkeep: load, refresh, diff, export, importers, call-backs."""
