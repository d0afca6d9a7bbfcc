"""sqlgen's inference on the labelled corpus: no wrong non-null claim, every parameter right.

The labels are facts (tests/test_corpus.py checks them on the server with adversarial
data). Where sqlgen says nullable but the truth is not null, the miss must be a known
one, listed here with why; an improvement removes an entry, a regression fails.
benchmarks/inference_accuracy.py prints the same comparison as a table.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Databases
from corpus import apply_corpus_schema, judge, schemas

from sqlgen.database import connect

KNOWN_GAPS = {
    "commerce/VariantsForProduct column on_sale": "a generated `x IS NOT NULL AND …` (false AND NULL is false)",
    "commerce/UpsertVariantStock column on_sale": "the same generated column",
    "commerce/DeliveredOrders column shipped_at": "needs a CHECK constraint",
    "commerce/ProductAttributes column value_type": "a key read from the same document",
    "commerce/ValidateCoupon column discount": "needs a CHECK constraint",
    "commerce/ValidateCoupon column still_valid": "needs a CHECK constraint",
    "commerce/StalePendingOrders column days_pending": "extract(day) is NULL only where the cast would fail",
    "commerce/StalePendingOrders column placed_on": "to_char is NULL only where the cast would fail",
    "saas/GetTaskDetail column project_name": "a scalar subquery through a NOT NULL foreign key",
}


@pytest.mark.parametrize("schema_dir", schemas(), ids=lambda p: p.name)
def test_inference_matches_the_labels(schema_dir: Path, databases: Databases) -> None:
    with connect(databases.create()) as conn:
        apply_corpus_schema(conn, schema_dir)
        judgements = judge(conn, schema_dir)
    wrong = [f"{j.query} {j.what}: {j.reason}" for j in judgements if j.wrongly_non_null]
    assert not wrong, "sqlgen claims non-null where NULL happens"
    misses = {f"{j.query} {j.what}" for j in judgements if not j.right}
    expected = {key for key in KNOWN_GAPS if key.startswith(f"{schema_dir.name}/")}
    assert misses == expected
