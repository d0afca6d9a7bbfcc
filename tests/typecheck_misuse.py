
import datetime
import decimal

import asyncpg
from bookshop.documents import PromotionRules
from generated import authors, books, promotions

async def main(pool: asyncpg.Pool[asyncpg.Record]) -> None:
    await promotions.active_promotions(pool, at=datetime.date(2026, 1, 1))
