"""Engagement and customer-health metrics declared in YAML, compiled to SQL views."""

__version__ = "0.1.0"
