"""The msgspec example's JSON documents (see sqlgen-msgspec.toml): `promotions.rules` as a Struct."""

from __future__ import annotations

import msgspec


class PromotionRules(msgspec.Struct, frozen=True):
    """When a promotion applies: `promotions.rules` holds one of these as JSON."""

    min_items: int = 1
    first_order_only: bool = False
    genres: list[str] = []
