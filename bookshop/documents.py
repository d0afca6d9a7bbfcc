"""JSON documents stored in jsonb columns; generated code validates them on the way out."""

from __future__ import annotations

from pydantic import BaseModel


class PromotionRules(BaseModel):
    """When a promotion applies: `promotions.rules` holds one of these as JSON."""

    min_items: int = 1
    first_order_only: bool = False
    genres: list[str] = []
