"""channels.py: a typed sender and listener per `[tool.sqlgen.channels]` entry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlgen.config import ChannelConfig
from sqlgen.errors import Diagnostic, UserError
from sqlgen.escape import PyLiteral, docstring, inline, literal
from sqlgen.layout import header, sorted_imports
from sqlgen.naming import identifier, unique
from sqlgen.render_models import TableModel
from sqlgen.targets import Target
from sqlgen.typemap import TypeMap, python_annotation


@dataclass(frozen=True)
class ChannelView:
    name: str  # in `notify_<name>` and `listen_<name>`
    constant: str
    literal: PyLiteral  # the channel as PostgreSQL names it
    payload: str  # the payload model's annotation
    encode: str  # the expression sending `payload` as JSON text
    decoder: str  # the expression reading JSON text into a payload
    notify_docstring: PyLiteral
    listen_docstring: PyLiteral


@dataclass(frozen=True)
class ChannelsModule:
    header: str
    imports: tuple[str, ...]
    channels: tuple[ChannelView, ...]
    validation_error: str  # what a payload that does not decode raises


def channels_module(
    channels: Sequence[ChannelConfig], typemap: TypeMap, table_models: Mapping[int, TableModel], target: Target
) -> ChannelsModule:
    """The view of channels.py; raises UserError naming each payload that is neither a schema type nor a class path."""
    imports = {
        "import asyncio",
        "from collections.abc import AsyncIterator, Callable",
        "from typing import Generic, TypeVar",
        "from asyncpg.exceptions import ConnectionDoesNotExistError, InterfaceError",
        "from . import AnyConnection, Executor",
    } | target.payload_imports()
    diagnostics: list[Diagnostic] = []
    views = []
    names = unique(identifier(c.name).lower() for c in channels)
    for channel, name in zip(channels, names, strict=True):
        model = _schema_model(channel.payload, typemap, table_models)
        if model is not None and not target.json_payloads and _holds_json(channel.payload, typemap, table_models):
            diagnostics.append(
                Diagnostic(
                    f"the payload of channel {channel.name!r}, {channel.payload!r}, holds a json or jsonb value,"
                    f" which the {target.name} target cannot decode from a notification",
                    channel.location,
                    hint="send a composite type (or a view) without json columns, or a Struct of yours as module.Class",
                )
            )
            continue
        if model is not None:
            payload = f"models.{model}"
            imports.add("from . import models")
        elif "." in channel.payload:
            try:
                payload, needed = python_annotation(channel.payload)
            except ValueError as err:
                diagnostics.append(Diagnostic(f"the payload of channel {channel.name!r}: {err}", channel.location))
                continue
            imports |= needed
        else:
            diagnostics.append(
                Diagnostic(
                    f"the payload of channel {channel.name!r}, {channel.payload!r}, is not a table, view or composite"
                    " type of the schema",
                    channel.location,
                    hint=f"name one (schema.name for other schemas than public), or {target.payload_hint}"
                    " as module.Class",
                )
            )
            continue
        shown = inline(channel.name)
        notify = f"Send `payload` on {shown} as JSON; listeners receive it when the transaction commits."
        listen = f"The payloads sent on {shown}: `async with listen_{name}(conn) as events:`."
        constant = f"{name.upper()}_CHANNEL"
        views.append(
            ChannelView(
                name,
                constant,
                literal(channel.name),
                payload,
                target.encode_payload("payload"),
                target.payload_decoder(payload),
                docstring(notify),
                docstring(listen),
            )
        )
    if diagnostics:
        raise UserError(diagnostics)
    imports_sorted = sorted_imports(imports, typemap.first_party_modules)
    return ChannelsModule(header(None), imports_sorted, tuple(views), target.validation_error)


def _holds_json(payload: str, typemap: TypeMap, table_models: Mapping[int, TableModel]) -> bool:
    """Whether the schema type `payload` names has a json/jsonb value in it (in a composite it holds too)."""
    schema, _, name = payload.rpartition(".")
    schema = schema or "public"
    catalog = typemap.catalog
    for model in table_models.values():
        if (model.table.schema, model.table.name) == (schema, name):
            columns = [c for c in model.table.columns if (model.table.oid, c.number) not in typemap.column_overrides]
            return any(_json_type(c.type_oid, typemap, set()) for c in columns)
    composite = next((c for c in catalog.user_composites() if (c.schema, c.name) == (schema, name)), None)
    return composite is not None and _json_type(composite.oid, typemap, set())


def _json_type(oid: int, typemap: TypeMap, seen: set[int]) -> bool:
    pg_type = typemap.catalog.innermost(oid)
    if pg_type is None or pg_type.oid in seen or oid in typemap.type_overrides or pg_type.oid in typemap.type_overrides:
        return False
    seen.add(pg_type.oid)
    if pg_type.kind == "c":
        attributes = typemap.catalog.composite_attributes(pg_type) or ()
        return any(_json_type(a.type_oid, typemap, seen) for a in attributes)
    return pg_type.schema == "pg_catalog" and pg_type.name in ("json", "jsonb")


def _schema_model(payload: str, typemap: TypeMap, table_models: Mapping[int, TableModel]) -> str | None:
    schema, _, name = payload.rpartition(".")
    schema = schema or "public"
    for model in table_models.values():
        if (model.table.schema, model.table.name) == (schema, name):
            return model.name
    for composite in typemap.catalog.user_composites():
        if (composite.schema, composite.name) == (schema, name):
            return typemap.class_names[composite.oid]
    return None
