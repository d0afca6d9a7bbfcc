"""Model names for tables: singular by sqlc's rules, or the table's own name, or the user's rename.

sqlc singularises with jinzhu/inflection (Rails' rules, as the `inflection` package has them)
plus a few words it fixes by hand; sqlgen makes the same names, so a sqlc project's models
keep their names. `emit_exact_table_names` (sqlgen: `exact_table_names`) keeps the table's
name; `rename` maps a table's singular name (sqlc's key: `schema_table` outside `public`) to a
class name.

>>> TableNaming().model_name("public", "order_items"), TableNaming().model_name("public", "metadata")
('OrderItem', 'Metadata')
>>> TableNaming(exact=True).model_name("public", "tenant_alerting_settings")
'TenantAlertingSettings'
>>> TableNaming(renames=(("author", "Writer"),)).model_name("public", "authors")
'Writer'
"""

from __future__ import annotations

from dataclasses import dataclass

import inflection

from sqlgen.naming import identifier, pascal_case

# Words sqlc singularises by hand (internal/inflection/singular.go), where the rules go wrong.
_SQLC_SINGULAR = {"campus": "campus", "meta": "meta", "calories": "calorie", "waves": "wave", "metadata": "metadata"}


def singular(name: str, exceptions: tuple[str, ...] = ()) -> str:
    """`order_items` → `order_item`, as sqlc makes it; a name in `exceptions` (any case) stays.

    >>> [singular(n) for n in ("campus", "calories", "data", "statuses", "people", "v1_dag_data")]
    ['campus', 'calorie', 'datum', 'status', 'person', 'v1_dag_datum']
    """
    if any(name.lower() == e.lower() for e in exceptions):
        return name
    fixed = _SQLC_SINGULAR.get(name.lower())
    return fixed if fixed is not None else inflection.singularize(name)


@dataclass(frozen=True)
class TableNaming:
    """How a package names its table models."""

    exact: bool = False  # keep table names as they are (sqlc's emit_exact_table_names)
    renames: tuple[tuple[str, str], ...] = ()  # (sqlc's key: the singular table name, class name)
    exceptions: tuple[str, ...] = ()  # table names never singularised (inflection_exclude_table_names)

    def model_name(self, schema: str, table: str) -> str:
        """`public.order_items` → `OrderItem`; `billing.invoices` → `BillingInvoice` (other schemas prefix it)."""
        qualified = table if schema == "public" else f"{schema}_{table}"
        key = qualified if self.exact else singular(qualified, self.exceptions)
        renamed = dict(self.renames).get(key)
        if renamed is not None:
            return identifier(renamed)
        if schema == "public":
            return pascal_case(key)
        base = table if self.exact else singular(table, self.exceptions)
        return pascal_case(schema) + pascal_case(base)
