"""Health score views: component values and scores per account and day, categories, bands and coverage."""

from __future__ import annotations

from healthlayer.compiler.plan import PlanBuilder
from healthlayer.definitions.models import HealthScore


def add_health_score(builder: PlanBuilder, definition: HealthScore) -> None:
    raise NotImplementedError
