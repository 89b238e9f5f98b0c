"""Licenses, credit-line templates and the entitlement rule."""
