"""The peers benchmarks/runtime.py measures, as their users would write them (the `bench` extra)."""

from __future__ import annotations

import datetime
import decimal
import uuid

import msgspec
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class ItemStruct(msgspec.Struct, array_like=True):
    id: int
    name: str
    email: str
    score: float
    amount: decimal.Decimal
    created_at: datetime.datetime
    born: datetime.date
    active: bool
    ref: uuid.UUID
    note: str | None


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    email: Mapped[str]
    score: Mapped[float]
    amount: Mapped[decimal.Decimal]
    created_at: Mapped[datetime.datetime]
    born: Mapped[datetime.date]
    active: Mapped[bool]
    ref: Mapped[uuid.UUID]
    note: Mapped[str | None]
