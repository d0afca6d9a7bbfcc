"""The render stage: typed queries → Python source, `{relative path: text}`.

A view model works out every name, signature, import and conversion first; the jinja2
templates (package data under `sqlgen/templates/`) only lay the results out.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jinja2

from sqlgen import __version__
from sqlgen.catalog import PgType, Table
from sqlgen.errors import Diagnostic, SourceText, UserError
from sqlgen.infer import TypedColumn, TypedQuery
from sqlgen.naming import (
    enum_member,
    field_name,
    model_name,
    parameter_name,
    pascal_case,
    snake_case,
    unique,
)
from sqlgen.source import Command, QuerySource
from sqlgen.sqllex import Kind, tokenize
from sqlgen.typemap import PyType, TypeMap, UnsupportedType

LINE_WIDTH = 88
# What generated modules import as modules.
MODULE_NAMES = frozenset({"models", "json", "datetime", "decimal", "uuid", "ipaddress", "asyncpg", "re"})
# Names a parameter must not take: the executor, everything imported, and builtins the bodies call.
RESERVED_PARAMETER_NAMES = MODULE_NAMES | {
    "conn",
    "Executor",
    "Sequence",
    "Mapping",
    "JsonValue",
    "BaseModel",
    "ConfigDict",
    "TypeAdapter",
    "int",
    "str",
    "float",
    "map",
}


@dataclass(frozen=True)
class FieldView:
    name: str
    annotation: str


@dataclass(frozen=True)
class ModelView:
    name: str
    doc: str
    fields: tuple[FieldView, ...]
    arbitrary: bool = False  # needs `model_config = ConfigDict(arbitrary_types_allowed=True)`


@dataclass(frozen=True)
class ConverterView:
    """The functions converting a composite type's model from and to what asyncpg reads and writes."""

    model: str
    decode: str
    decode_return: str  # the `return …` line(s)
    encode: str
    encode_return: str


@dataclass(frozen=True)
class EnumView:
    name: str
    doc: str
    members: tuple[tuple[str, str], ...]  # (member name, value literal)


@dataclass(frozen=True)
class FunctionView:
    name: str
    constant: str
    sql_literal: str
    signature: str  # from the opening parenthesis to the return annotation
    doc_literal: str | None
    body: tuple[str, ...]


@dataclass(frozen=True)
class ModuleView:
    header: str
    doc: str
    imports: tuple[str, ...]
    models: tuple[ModelView, ...]
    functions: tuple[FunctionView, ...]
    enums: tuple[EnumView, ...] = ()
    definitions: tuple[str, ...] = ()  # module-level statements after the imports
    converters: tuple[ConverterView, ...] = ()
    codecs: tuple[str, ...] = ()  # statements init_connection runs


@dataclass(frozen=True)
class QueryFile:
    """The typed queries of one source file and the module they become."""

    module: str  # Python module name, e.g. "authors"
    source_path: str  # as shown in headers, relative to the project root
    queries: tuple[TypedQuery, ...]


@dataclass(frozen=True)
class _TableModel:
    table: Table
    name: str
    fields: tuple[FieldView, ...]
    types: tuple[PyType, ...]


def render_package(files: Sequence[QueryFile], typemap: TypeMap) -> dict[str, str]:
    """Render the whole output package; raises UserError listing every unsupported type."""
    table_models = _table_models(typemap)
    diagnostics: list[Diagnostic] = []
    output: dict[str, str] = {}
    codecs: set[str] = set()
    environment = _environment()
    for file in files:
        try:
            view = _module_view(file, typemap, table_models)
        except UserError as err:
            diagnostics.extend(err.diagnostics)
            continue
        codecs.update(view.codecs)
        output[f"{file.module}.py"] = _canonical(environment.get_template("queries.py.jinja").render(module=view))
    if diagnostics:
        raise UserError(diagnostics)
    models = _models_view(typemap, table_models)
    codecs.update(models.codecs)
    output["models.py"] = _canonical(environment.get_template("models.py.jinja").render(module=models))
    init = ModuleView(
        header=_header(None),
        doc="Generated query package.",
        imports=(),
        models=(),
        functions=(),
        codecs=tuple(sorted(codecs)),
    )
    output["__init__.py"] = _canonical(environment.get_template("__init__.py.jinja").render(module=init))
    return dict(sorted(output.items()))


def _models_view(typemap: TypeMap, table_models: Mapping[int, _TableModel]) -> ModuleView:
    composites = _composite_models(typemap)
    converted = [t for _, _, ts in composites for t in ts if t.decode or t.encode]  # by the composite converters
    types = [t for m in table_models.values() for t in m.types] + [t for _, _, ts in composites for t in ts]
    imports = {"from pydantic import BaseModel"}.union(*(t.imports for t in types))
    if composites:
        imports |= {"from asyncpg import Record"}.union(*(t.decode_imports | t.encode_imports for t in converted))
    imports = {line for line in imports if not line.startswith("from .models import")}
    enums = _enum_views(typemap)
    if enums:
        imports.add("from enum import StrEnum")
    models = [model for model, _, _ in composites]
    models += [
        ModelView(m.name, _model_doc(m.table), m.fields, any(t.arbitrary for t in m.types))
        for m in table_models.values()
    ]
    if any(m.arbitrary for m in models):
        imports.add("from pydantic import ConfigDict")
    return _unshadow(
        ModuleView(
            header=_header(None),
            doc="Models for the enums, composite types, tables and views of the schema.",
            imports=_sorted_imports(imports, typemap.first_party_modules),
            models=tuple(models),
            functions=(),
            enums=enums,
            definitions=tuple(sorted(set().union(*(t.definitions for t in converted)))),
            converters=tuple(converter for _, converter, _ in composites),
            codecs=tuple(sorted(set().union(*(t.codecs for t in types)))),
        ),
        typemap.first_party_modules,
    )


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("sqlgen", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def _header(source: str | None) -> str:
    header = f"# Code generated by sqlgen {__version__}. DO NOT EDIT."
    return f"{header}\n# source: {source}" if source else header


def _model_doc(table: Table) -> str:
    kind = {"v": "view", "m": "materialized view", "f": "foreign table"}.get(table.kind, "table")
    return f"A row of the {kind} {table.schema}.{table.name}."


def _table_models(typemap: TypeMap) -> dict[int, _TableModel]:
    models: dict[int, _TableModel] = {}
    tables = []
    for table in typemap.catalog.user_tables():
        try:
            types = tuple(typemap.of_column(table.oid, c.number, c.type_oid) for c in table.columns)
        except UnsupportedType:
            continue  # no model; queries reading the unsupported column report it
        tables.append((table, types))
    taken = list(typemap.class_names.values())
    names = unique([*taken, *(model_name(t.schema, t.name) for t, _ in tables)])[len(taken) :]
    for (table, types), name in zip(tables, names, strict=True):
        field_names = unique(field_name(c.name) for c in table.columns)
        fields = tuple(
            FieldView(f, _nullable(t.annotation, _table_column_nullable(table, c.not_null)))
            for f, t, c in zip(field_names, types, table.columns, strict=True)
        )
        models[table.oid] = _TableModel(table, name, fields, types)
    return models


def _composite_models(typemap: TypeMap) -> list[tuple[ModelView, ConverterView, tuple[PyType, ...]]]:
    """A model and its converters for each composite type, every type after the composites it holds."""
    result = []
    for composite in _dependency_order(typemap):
        attributes = typemap.catalog.composite_attributes(composite) or ()
        try:
            types = tuple(typemap.of_column(composite.relation_oid, a.number, a.type_oid) for a in attributes)
        except UnsupportedType:
            continue  # queries using the type report it
        name = typemap.class_names[composite.oid]
        decode, encode = typemap.composite_functions(composite.oid)
        fields = unique(field_name(a.name) for a in attributes)
        model = ModelView(
            name,
            f"A value of the composite type {composite.schema}.{composite.name}.",
            tuple(FieldView(f, _nullable(t.annotation, True)) for f, t in zip(fields, types, strict=True)),
            any(t.arbitrary for t in types),
        )
        decode_args = [
            f"{f}={_convert(t.decode, f'value[{i}]', True)}" for i, (f, t) in enumerate(zip(fields, types, strict=True))
        ]
        encode_items = [_convert(t.encode, f"value.{f}", True) for f, t in zip(fields, types, strict=True)]
        if len(encode_items) == 1:
            encode_items[0] += ","
        converter = ConverterView(
            name,
            decode,
            _wrap_call(f"return {name}", decode_args, indent=4),
            encode,
            _wrap_call("return ", encode_items, indent=4),
        )
        result.append((model, converter, types))
    return result


def _dependency_order(typemap: TypeMap) -> list[PgType]:
    catalog = typemap.catalog
    composites = catalog.user_composites()
    depth: dict[int, int] = {}

    def composite_depth(oid: int) -> int:
        pg_type = catalog.types.get(oid)
        while pg_type is not None and (pg_type.kind == "d" or pg_type.is_array):
            pg_type = catalog.types.get(pg_type.base_oid or pg_type.element_oid)
        if pg_type is None or pg_type.kind != "c":
            return 0
        if pg_type.oid not in depth:
            depth[pg_type.oid] = 0  # a cycle cannot happen in PostgreSQL; this only guards recursion
            attributes = catalog.composite_attributes(pg_type) or ()
            depth[pg_type.oid] = 1 + max((composite_depth(a.type_oid) for a in attributes), default=0)
        return depth[pg_type.oid]

    return sorted(composites, key=lambda t: composite_depth(t.oid))


def _enum_views(typemap: TypeMap) -> tuple[EnumView, ...]:
    return tuple(
        EnumView(
            typemap.class_names[e.oid],
            f"The enum {e.schema}.{e.name}, in PostgreSQL's order.",
            tuple(
                (member, json.dumps(label, ensure_ascii=False))
                for member, label in zip(unique(enum_member(label) for label in e.labels), e.labels, strict=True)
            ),
        )
        for e in typemap.catalog.user_enums()
    )


def _table_column_nullable(table: Table, not_null: bool) -> bool:
    return not (not_null and table.enforces_not_null)


def _nullable(annotation: str, nullable: bool) -> str:
    return f"{annotation} | None" if nullable else annotation


def _module_view(file: QueryFile, typemap: TypeMap, table_models: Mapping[int, _TableModel]) -> ModuleView:
    diagnostics: list[Diagnostic] = []
    imports: set[str] = {"from . import Executor"}
    definitions: set[str] = set()
    codecs: set[str] = set()
    row_models: list[ModelView] = []
    functions: list[FunctionView] = []
    names = [_function_name(t.described.query.name) for t in file.queries]
    seen: dict[str, TypedQuery] = {}
    for name, typed in zip(names, file.queries, strict=True):
        query = typed.described.query
        if name in seen:
            other = seen[name].described.query
            diagnostics.append(
                query.file.diagnostic(
                    f"query {query.name} has the same function name, {name}, as {other.name}",
                    query.annotation_offset,
                    hint="rename one of the queries",
                )
            )
            continue
        seen[name] = typed
        try:
            function, model, needed, needed_definitions, needed_codecs = _function_view(
                name, typed, typemap, table_models
            )
        except UserError as err:
            diagnostics.extend(err.diagnostics)
            continue
        functions.append(function)
        if model is not None:
            row_models.append(model)
        imports |= needed
        definitions |= needed_definitions
        codecs |= needed_codecs
    if diagnostics:
        raise UserError(diagnostics)
    if row_models:
        imports.add("from pydantic import BaseModel")
    if any(m.arbitrary for m in row_models):
        imports.add("from pydantic import ConfigDict")
    view = ModuleView(
        header=_header(file.source_path),
        doc=f"Queries from {file.source_path}.",
        imports=_sorted_imports(imports, typemap.first_party_modules),
        models=tuple(row_models),
        functions=tuple(functions),
        definitions=tuple(sorted(definitions)),
        codecs=tuple(sorted(codecs)),
    )
    return _unshadow(view, typemap.first_party_modules)


_ANNOTATION_MODULES = ("datetime", "decimal", "uuid", "ipaddress", "asyncpg")


def _unshadow(view: ModuleView, first_party: frozenset[str]) -> ModuleView:
    """Keep annotations meaning what they say when a model field is named like a module or builtin.

    In a class body, `uuid: uuid.UUID` or `int: int | None` makes later annotations that say
    `uuid.UUID` or `int` refer to the field: such modules are imported as `_uuid`, and such
    builtins are spelled `builtins.int` in that model.
    """
    fields = {f.name for m in view.models for f in m.fields}
    shadowed = [m for m in _ANNOTATION_MODULES if m in fields and f"import {m}" in view.imports]
    shadowed_imports = {f"import {m}" for m in shadowed}
    module_pattern = re.compile(rf"\b({'|'.join(shadowed)})\.") if shadowed else None

    def fix(text: str) -> str:
        return module_pattern.sub(r"_\1.", text) if module_pattern else text

    def fix_model(model: ModelView) -> ModelView:
        builtin_names = {f.name for f in model.fields} & _BUILTIN_TYPES
        pattern = re.compile(rf"(?<![\w.])({'|'.join(sorted(builtin_names))})\b") if builtin_names else None
        return dataclasses.replace(
            model,
            fields=tuple(
                FieldView(f.name, pattern.sub(r"builtins.\1", fix(f.annotation)) if pattern else fix(f.annotation))
                for f in model.fields
            ),
        )

    models = tuple(fix_model(m) for m in view.models)
    imports = tuple(f"{line} as _{line.split()[1]}" if line in shadowed_imports else line for line in view.imports)
    if any("builtins." in f.annotation for m in models for f in m.fields):
        imports = _sorted_imports({line for line in imports if line} | {"import builtins"}, first_party)
    return dataclasses.replace(
        view,
        imports=imports,
        models=models,
        functions=tuple(
            dataclasses.replace(f, signature=fix(f.signature), body=tuple(map(fix, f.body))) for f in view.functions
        ),
    )


_BUILTIN_TYPES = frozenset({"int", "str", "float", "bool", "bytes", "list"})


def _function_view(
    name: str, typed: TypedQuery, typemap: TypeMap, table_models: Mapping[int, _TableModel]
) -> tuple[FunctionView, ModelView | None, set[str], set[str], set[str]]:
    query = typed.described.query
    imports: set[str] = set()
    diagnostics: list[Diagnostic] = []

    param_types: list[PyType] = []
    for param in typed.params:
        try:
            param_types.append(typemap.of_column(param.table_oid, param.column_number, param.type_oid))
        except UnsupportedType as err:
            occurrence = next((p.offsets[0] for p in query.params if p.number == param.number), query.statement_offset)
            diagnostics.append(_unsupported(query.file, occurrence, err, f"parameter {param.name}", query.name))

    columns = typed.columns if query.command.returns_rows else ()
    column_types: list[PyType] = []
    for column in columns:
        try:
            column_types.append(typemap.of_column(column.table_oid, column.column_number, column.type_oid))
        except UnsupportedType as err:
            offset = _column_offset(query, column.name)
            diagnostics.append(_unsupported(query.file, offset, err, f"column {column.name}", query.name))
    if query.command.returns_rows and not columns:
        diagnostics.append(
            query.file.diagnostic(
                f"query {query.name} is {query.command.value} but its statement returns no rows",
                query.annotation_offset,
                hint="use :exec, :execrows or :execresult, or add a RETURNING clause",
            )
        )
    if diagnostics:
        raise UserError(diagnostics)

    arg_names = unique(parameter_name(p.name, RESERVED_PARAMETER_NAMES) for p in typed.params)
    signature_args = ["conn: Executor", "/"]
    call_args = [_constant_name(query.name)]
    if typed.params:
        signature_args.append("*")
    for arg, param, py in zip(arg_names, typed.params, param_types, strict=True):
        signature_args.append(f"{arg}: {_nullable(py.as_param(), param.nullable)}")
        imports |= py.imports | py.param_imports
        call_args.append(_convert(py.encode, arg, param.nullable))
        if py.encode:
            imports |= py.encode_imports

    model: ModelView | None = None
    model_ref: str | None = None
    field_names: list[str] = []
    if len(columns) > 1:
        reused = _reusable_model(columns, table_models)
        if reused is None:
            field_names = unique(
                field_name(c.name if c.name != "?column?" else f"column_{i + 1}") for i, c in enumerate(columns)
            )
            model_ref = f"{pascal_case(query.name)}Row"
            model = ModelView(
                model_ref,
                f"A row returned by {name}.",
                tuple(
                    FieldView(f, _nullable(t.annotation, c.nullable))
                    for f, t, c in zip(field_names, column_types, columns, strict=True)
                ),
                any(t.arbitrary for t in column_types),
            )
        else:
            field_names = [f.name for f in reused.fields]
            model_ref = f"models.{reused.name}"
            imports.add("from . import models")
    result_type, body = _body(query.command, columns, column_types, call_args, model_ref, field_names, arg_names)
    for py in column_types:
        if model_ref is None or model is not None:  # the annotation appears here, not only in models.py
            imports |= py.imports
        if py.decode:
            imports |= py.decode_imports

    returns = f" -> {result_type}"
    signature = _wrap_call("", signature_args, indent=0, prefix_len=len(f"async def {name}{returns}:")) + returns
    function = FunctionView(
        name=name,
        constant=_constant_name(query.name),
        sql_literal=_string_literal(query.sql),
        signature=signature,
        doc_literal=_string_literal(query.doc) if query.doc else None,
        body=tuple(body),
    )
    converted = [t for t in param_types if t.encode] + [t for t in column_types if t.decode]
    definitions = set().union(*(t.definitions for t in converted))
    codecs = set().union(*(t.codecs for t in (*param_types, *column_types)))
    return function, model, imports, definitions, codecs


def _body(
    command: Command,
    columns: Sequence[TypedColumn],
    types: Sequence[PyType],
    call_args: list[str],
    model: str | None,
    field_names: Sequence[str],
    arg_names: Sequence[str],
) -> tuple[str, list[str]]:
    row, rows, value, status = (_local(name, arg_names) for name in ("row", "rows", "value", "status"))
    if command is Command.EXEC:
        return "None", [_wrap_call("await conn.execute", call_args, indent=4)]
    if command is Command.EXECROWS:
        return "int", [
            _wrap_call(f"{status} = await conn.execute", call_args, indent=4),
            f'return int({status}.rpartition(" ")[2])',
        ]
    if command is Command.EXECRESULT:
        return "str", [_wrap_call("return await conn.execute", call_args, indent=4)]

    if model is None:
        column, py = columns[0], types[0]
        value_type = _nullable(py.annotation, column.nullable)
        if command is Command.ONE:
            if py.decode is None:
                return _nullable(py.annotation, True), [
                    _wrap_call(f"{value}: {_nullable(py.annotation, True)} = await conn.fetchval", call_args, indent=4),
                    f"return {value}",
                ]
            return _nullable(py.annotation, True), [
                _wrap_call(f"{value} = await conn.fetchval", call_args, indent=4),
                f"return {_convert(py.decode, value, True)}",
            ]
        return f"list[{value_type}]", [
            _wrap_call(f"{rows} = await conn.fetch", call_args, indent=4),
            f"return [{_convert(py.decode, 'r[0]', column.nullable)} for r in {rows}]",
        ]

    variable = row if command is Command.ONE else "r"
    arguments = [
        f"{f}={_convert(t.decode, f'{variable}[{i}]', c.nullable)}"
        for i, (f, t, c) in enumerate(zip(field_names, types, columns, strict=True))
    ]
    if command is Command.ONE:
        return f"{model} | None", [
            _wrap_call(f"{row} = await conn.fetchrow", call_args, indent=4),
            f"if {row} is None:",
            "    return None",
            _wrap_call(f"return {model}", arguments, indent=4),
        ]
    fetch = _wrap_call(f"{rows} = await conn.fetch", call_args, indent=4)
    one_line = f"return [{model}({', '.join(arguments)}) for r in {rows}]"
    if len(one_line) + 4 <= LINE_WIDTH:
        return f"list[{model}]", [fetch, one_line]
    construct = _wrap_call(model, arguments, indent=8)
    return f"list[{model}]", [fetch, "return [", f"    {construct}", f"    for r in {rows}", "]"]


def _local(name: str, taken: Sequence[str]) -> str:
    """A local variable name that no parameter uses."""
    while name in taken:
        name += "_"
    return name


def _reusable_model(columns: Sequence[TypedColumn], table_models: Mapping[int, _TableModel]) -> _TableModel | None:
    """The table model whose columns are exactly these, with the same nullability, if any."""
    if not columns or not columns[0].table_oid:
        return None
    model = table_models.get(columns[0].table_oid)
    if model is None or len(model.table.columns) != len(columns):
        return None
    for column, table_column in zip(columns, model.table.columns, strict=True):
        if column.table_oid != model.table.oid or column.column_number != table_column.number:
            return None
        if column.nullable != _table_column_nullable(model.table, table_column.not_null):
            return None
        if column.name != table_column.name:
            return None
    return model


def _unsupported(file: SourceText, offset: int, err: UnsupportedType, what: str, query: str) -> Diagnostic:
    return file.diagnostic(
        f"{what} of query {query} has type {err.type_name}, {err.why}",
        offset,
        hint=f'map it to a Python type under [tool.sqlgen.overrides], e.g. "{err.override}" = "str", '
        "or cast it in the SQL, e.g. `::text`",
    )


def _column_offset(query: QuerySource, name: str) -> int:
    """Where the statement first names a result column (for pointing at it), else its start."""
    for token in tokenize(query.sql):
        text = token.text[1:-1] if token.kind is Kind.QUOTED_IDENT else token.text.lower()
        if token.kind in (Kind.IDENT, Kind.QUOTED_IDENT) and text == name:
            return query.file_offset(token.start)
    return query.statement_offset


def _convert(template: str | None, value: str, nullable: bool) -> str:
    if template is None:
        return value
    converted = template.format(value)
    return f"None if {value} is None else {converted}" if nullable else converted


def _wrap_call(callee: str, args: Sequence[str], *, indent: int, prefix_len: int | None = None) -> str:
    """`callee(a, b)` on one line when it fits, else one argument per line."""
    one_line = f"{callee}({', '.join(args)})"
    width = indent + (prefix_len if prefix_len is not None else 0) + len(one_line)
    if width <= LINE_WIDTH:
        return one_line
    inner = " " * (indent + 4)
    lines = [f"{callee}("]
    lines.extend(f"{inner}{arg}," for arg in args)
    lines.append(" " * indent + ")")
    return "\n".join(lines)


def _function_name(query_name: str) -> str:
    name = snake_case(query_name)
    return f"{name}_" if name in MODULE_NAMES else name


def _constant_name(query_name: str) -> str:
    return snake_case(query_name).upper()


def _string_literal(text: str) -> str:
    """A Python literal for `text`: a readable triple-quoted string when that is exact."""
    safe = all(ch.isprintable() or ch in "\n\t" for ch in text)
    if safe and "\\" not in text and '"""' not in text and not text.endswith('"'):
        return f'"""{text}"""'
    return repr(text)


def _sorted_imports(lines: set[str] | frozenset[str], first_party: frozenset[str]) -> tuple[str, ...]:
    """isort's layout: standard library, third party, the project's, the package's own; split by blank lines."""
    plain = {line for line in lines if line.startswith("import ")}
    names: dict[str, set[str]] = {}
    for line in lines - plain:
        _, module, _, imported = line.split(" ", 3)
        names.setdefault(module, set()).update(n.strip() for n in imported.split(","))
    merged = plain | {f"from {m} import {', '.join(sorted(n, key=_isort_name))}" for m, n in names.items()}

    def group(line: str) -> int:
        module = line.split()[1]
        if module.startswith("."):
            return 3
        top = module.split(".")[0]
        return 0 if top in sys.stdlib_module_names else 2 if top in first_party else 1

    ordered = sorted(merged, key=lambda line: (group(line), line.startswith("from "), line.split()[1]))
    result: list[str] = []
    for index, line in enumerate(ordered):
        if index and group(line) != group(ordered[index - 1]):
            result.append("")
        result.append(line)
    return tuple(result)


def _isort_name(name: str) -> tuple[int, str]:
    """isort orders CONSTANTS, then Classes, then functions and modules."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[:1].isupper() else (2, name)


def _canonical(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    collapsed = re.sub(r"\n{4,}", "\n\n\n", "\n".join(lines))
    return collapsed.strip("\n") + "\n"
