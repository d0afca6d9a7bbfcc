"""Python names for SQL things: functions, models, fields, parameters, modules.

>>> snake_case("GetHTTPStatus"), snake_case("GetAuthorsByIDs")
('get_http_status', 'get_authors_by_ids')
>>> pascal_case("order_items"), model_name("public", "categories"), model_name("billing", "invoices")
('OrderItems', 'Category', 'BillingInvoice')
>>> identifier("class"), identifier("2fa code"), identifier("?column?")
('class_', 'c_2fa_code', 'column')
"""

from __future__ import annotations

import functools
import keyword
import re
import unicodedata
from collections.abc import Iterable

import inflection


@functools.cache
def _basemodel_names() -> frozenset[str]:
    from pydantic import BaseModel  # only when a name is checked: pydantic takes a while to import

    return frozenset(name for name in dir(BaseModel) if not name.startswith("__"))


# What generated modules import as modules, and every name they import or define at module level.
GENERATED_MODULES = frozenset(
    {"asyncpg", "builtins", "datetime", "decimal", "ipaddress", "json", "models", "re", "uuid"}
)
GENERATED_NAMES = GENERATED_MODULES | {
    "AnyConnection",
    "AsyncIterator",
    "BaseModel",
    "CopyOutput",
    "Iterable",
    "NamedTuple",
    "NoActiveSQLTransactionError",
    "PostgresError",
    "ConfigDict",
    "Executor",
    "JsonValue",
    "JsonDocument",
    "JsonNull",
    "JSON_NULL",
    "decode_json",
    "encode_json",
    "Mapping",
    "Sequence",
    "StrEnum",
    "TypeAdapter",
    "_trusted",
}


def snake_case(name: str) -> str:
    name = re.sub(r"([A-Z]{2,})s(?=[A-Z0-9_]|$)", lambda m: m.group(1).capitalize() + "s", name)  # IDs → Ids
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return identifier(name.lower())


def module_name(stem: str) -> str:
    """A query file's module: `user-accounts.sql` → `user_accounts` (ASCII: file systems and tools agree on it)."""
    name = snake_case(stem)
    return name if name.isascii() else snake_case(re.sub(r"[^\x00-\x7f]+", "_", stem))


def pascal_case(name: str) -> str:
    words = [w for w in re.split(r"[^0-9A-Za-z]+", name) if w]
    pascal = "".join(w[:1].upper() + w[1:] for w in words)
    return identifier(pascal or "Model")


def model_name(schema: str, table: str) -> str:
    """`public.order_items` → `OrderItem`; other schemas prefix their name: `billing.invoices` → `BillingInvoice`."""
    singular = inflection.singularize(table)
    name = pascal_case(singular)
    return name if schema == "public" else pascal_case(schema) + name


def class_name(schema: str, name: str) -> str:
    """`public.order_status` → `OrderStatus`; other schemas prefix their name."""
    pascal = pascal_case(name)
    return pascal if schema == "public" else pascal_case(schema) + pascal


def enum_member(label: str) -> str:
    """`in-progress` → `IN_PROGRESS`."""
    return identifier(label).upper()


def identifier(name: str) -> str:
    """A valid, public Python identifier close to `name`.

    Letters of any script stay (`naïve`, `日本`), in the NFKC form Python itself reads
    identifiers in; what Python would not accept becomes `_`.

    >>> identifier("naïve"), identifier("日本"), identifier("Weird Table"), identifier("２x")
    ('naïve', '日本', 'Weird_Table', 'c_2x')
    """
    normal = unicodedata.normalize("NFKC", name)
    cleaned = re.sub(r"\W+", "_", normal).strip("_")
    if cleaned and not (cleaned.isidentifier() or f"c_{cleaned}".isidentifier()):
        cleaned = re.sub(r"\W+", "_", normal, flags=re.ASCII).strip("_")
    if not cleaned:
        return "column"
    if cleaned[0].isdigit():
        cleaned = f"c_{cleaned}"
    if keyword.iskeyword(cleaned):
        cleaned += "_"
    return cleaned


def field_name(column: str) -> str:
    """A pydantic field name: no leading underscore, nothing BaseModel already defines."""
    name = identifier(column)
    if name in _basemodel_names() or name.startswith("model_"):
        name += "_"
    return name


def parameter_name(name: str, reserved: Iterable[str]) -> str:
    """A keyword-only parameter name that shadows nothing the generated function uses."""
    name = identifier(name)
    taken = set(reserved)
    while name in taken:
        name += "_"
    return name


def unique(names: Iterable[str]) -> list[str]:
    """Deduplicate in order: `id, id, name` → `id, id_2, name`."""
    seen: dict[str, int] = {}
    result = []
    taken: set[str] = set()
    for name in names:
        candidate = name
        count = seen.get(name, 1)
        while candidate in taken:
            count += 1
            candidate = f"{name}_{count}"
        seen[name] = count
        taken.add(candidate)
        result.append(candidate)
    return result
