"""The render stage: typed queries → Python source, `{relative path: text}`.

A view model works out every name, signature, import and conversion first; the jinja2
templates (package data under `sqlgen/templates/`) only lay the results out. This module
owns the query modules and the package; `render_models` owns models.py and `layout` the
formatting rules.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jinja2

from sqlgen.config import ChannelConfig
from sqlgen.dynamic import Plan
from sqlgen.errors import Diagnostic, SourceText, UserError
from sqlgen.escape import PyLiteral, docstring, inline, literal, text_literal
from sqlgen.infer import CopyTarget, TypedColumn, TypedQuery
from sqlgen.layout import (
    LINE_WIDTH,
    FieldView,
    FunctionView,
    ModelOptions,
    ModelView,
    ModuleView,
    canonical,
    convert,
    header,
    optional,
    sorted_imports,
    unshadow,
    unshadow_modules,
    wrap_call,
)
from sqlgen.naming import (
    GENERATED_NAMES,
    field_name,
    parameter_name,
    pascal_case,
    snake_case,
    unique,
)
from sqlgen.render_channels import channels_module
from sqlgen.render_dynamic import DynamicView, dynamic_view
from sqlgen.render_models import TableModel, build_table_models, models_view, table_column_nullable
from sqlgen.source import Command, QuerySource
from sqlgen.sqllex import Kind, tokenize
from sqlgen.targets import Target, get_target
from sqlgen.typemap import PyType, TypeMap, UnsupportedType

# Names a parameter must not take: everything generated modules import, the executor, builtins the bodies call.
RESERVED_PARAMETER_NAMES = GENERATED_NAMES | {"conn", "int", "str", "float", "map"}


@dataclass(frozen=True)
class QueryFile:
    """The typed queries of one source file and the module they become."""

    module: str  # Python module name, e.g. "authors"
    source_path: str  # as shown in headers, relative to the project root
    queries: tuple[TypedQuery, ...]


def render_package(
    files: Sequence[QueryFile],
    typemap: TypeMap,
    channels: Sequence[ChannelConfig],
    options: ModelOptions,
) -> dict[str, str]:
    """Render the whole output package; raises UserError listing every unsupported type or unknown payload."""
    table_models = build_table_models(typemap)
    target = get_target(options.target)
    diagnostics: list[Diagnostic] = []
    output: dict[str, str] = {}
    codecs: set[str] = set()
    environment = _environment()
    for file in files:
        try:
            view = _module_view(file, typemap, table_models, options)
        except UserError as err:
            diagnostics.extend(err.diagnostics)
            continue
        codecs.update(view.codecs)
        output[f"{file.module}.py"] = unshadow_modules(
            canonical(environment.get_template("queries.py.jinja").render(module=view))
        )
    if channels:
        try:
            module = channels_module(channels, typemap, table_models, target)
            output["channels.py"] = canonical(environment.get_template("channels.py.jinja").render(module=module))
        except UserError as err:
            diagnostics.extend(err.diagnostics)
    if diagnostics:
        raise UserError(diagnostics)
    models = models_view(typemap, table_models, options)
    codecs.update(models.codecs)
    output["models.py"] = unshadow_modules(canonical(environment.get_template("models.py.jinja").render(module=models)))
    init = ModuleView(
        header=header(None),
        docstring=docstring("Generated query package."),
        imports=(),
        models=(),
        functions=(),
        codecs=tuple(sorted(codecs)),
    )
    output["__init__.py"] = canonical(environment.get_template(target.init_template).render(module=init))
    return dict(sorted(output.items()))


def _environment() -> jinja2.Environment:
    """Templates that print only code: `| literal` takes only what `sqlgen.escape` made, and no value may hold
    a character that would end or break a line of Python source (outside text must go through `escape`)."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("sqlgen", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        finalize=_printable_code,
    )
    environment.filters["literal"] = _only_literal
    return environment


def _only_literal(value: object) -> PyLiteral:
    if not isinstance(value, PyLiteral):
        raise TypeError(f"a template printed {value!r} where a literal from sqlgen.escape belongs")
    return value


def _printable_code(value: object) -> object:
    if isinstance(value, str) and any(c not in "\n\t" and not c.isprintable() for c in value):
        raise TypeError(f"a template printed {value!r}, which holds a character Python source cannot hold as is")
    return value


def _module_view(
    file: QueryFile, typemap: TypeMap, table_models: Mapping[int, TableModel], options: ModelOptions
) -> ModuleView:
    diagnostics: list[Diagnostic] = []
    imports: set[str] = set()
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
            function, models, needed, needed_definitions, needed_codecs = _function_view(
                name, typed, typemap, table_models, file.source_path, options
            )
        except UserError as err:
            diagnostics.extend(err.diagnostics)
            continue
        functions.append(function)
        row_models.extend(models)
        imports |= needed
        definitions |= needed_definitions
        codecs |= needed_codecs
    if diagnostics:
        raise UserError(diagnostics)
    imports |= get_target(options.target).model_imports(row_models)
    if any(m.base == "NamedTuple" for m in row_models):
        imports.add("from typing import NamedTuple")
    view = ModuleView(
        header=header(file.source_path),
        docstring=docstring(f"Queries from {inline(file.source_path)}."),
        imports=sorted_imports(imports, typemap.first_party_modules),
        models=tuple(row_models),
        functions=tuple(functions),
        definitions=tuple(sorted(definitions)),
        codecs=tuple(sorted(codecs)),
    )
    return unshadow(view, typemap.first_party_modules)


def _function_view(
    name: str,
    typed: TypedQuery,
    typemap: TypeMap,
    table_models: Mapping[int, TableModel],
    source_path: str,
    options: ModelOptions,
) -> tuple[FunctionView, list[ModelView], set[str], set[str], set[str]]:
    query = typed.described.query
    validate = options.validate or query.validate
    target = get_target(options.target)
    imports: set[str] = set()
    diagnostics: list[Diagnostic] = []
    if query.validate and not target.validates:
        diagnostics.append(_cannot_validate(query, target))

    param_types: list[PyType] = []
    for param in typed.params:
        try:
            if param.slice:
                param_types.append(typemap.of_slice(param.type_oid))
            else:
                elements = None if param.elements_nullable else False
                py = typemap.of_column(param.table_oid, param.column_number, param.type_oid, nullable_elements=elements)
                param_types.append(py)
        except UnsupportedType as err:
            occurrence = next((p.offsets[0] for p in query.params if p.number == param.number), query.statement_offset)
            diagnostics.append(_unsupported(query.file, occurrence, err, f"parameter {param.name}", query.name))

    columns = typed.columns if query.command.returns_rows else ()
    column_types: list[PyType] = []
    for column in columns:
        try:
            elements = column.elements_nullable
            py = typemap.of_column(column.table_oid, column.column_number, column.type_oid, nullable_elements=elements)
            column_types.append(py)
        except UnsupportedType as err:
            offset = _column_offset(query, column.name)
            diagnostics.append(_unsupported(query.file, offset, err, f"column {column.name}", query.name))
    for embed in typed.embeds:
        if embed.table_oid not in table_models:
            diagnostics.append(
                query.file.diagnostic(
                    f"sqlc.embed({embed.name}) in query {query.name} names a table without a generated model",
                    embed.offset,
                    hint="embed a table of your schema whose column types sqlgen supports, or list the columns",
                )
            )
    if diagnostics:
        raise UserError(diagnostics)

    command = query.command
    arg_names = unique(parameter_name(p.name, RESERVED_PARAMETER_NAMES) for p in typed.params)
    taken = {*typemap.class_names.values(), *typemap.imported_names}
    models: list[ModelView] = []
    executor = "AnyConnection" if command is Command.ITER else "Executor"
    imports.add(f"from . import {executor}")
    if command is Command.COPYTO:
        imports.add("from . import CopyOutput")
    signature_args = [f"conn: {executor}", "/"]
    arguments: list[str] = []  # the query's arguments, converted for asyncpg
    for arg, param, py in zip(arg_names, typed.params, param_types, strict=True):
        imports |= py.imports | py.param_imports
        arguments.append(convert(py.encode, arg, param.nullable))
        if py.encode:
            imports |= py.encode_imports
    annotations = [optional(py.as_param(), p.nullable) for p, py in zip(typed.params, param_types, strict=True)]
    dynamic = None
    if typed.dynamic is not None and not command.batched:  # sqlgen.dynamic: the statement is chosen at run time
        alias = _class_name(f"{pascal_case(query.name)}Order", taken) if typed.dynamic.sort else ""
        taken.add(alias)
        dynamic = _dynamic(typed.dynamic, _constant_name(query.name), arg_names, arguments, alias)
        imports |= dynamic.imports
    if command.batched:
        params_model = _class_name(f"{pascal_case(query.name)}Params", taken)
        taken.add(params_model)
        models.append(
            ModelView(
                params_model,
                docstring(f"One parameter set of {name}."),
                tuple(FieldView(a, t) for a, t in zip(arg_names, annotations, strict=True)),
                base="NamedTuple",
            )
        )
        signature_args.append(f"{'rows' if command is Command.COPYFROM else 'params'}: Iterable[{params_model}]")
        imports.add("from collections.abc import Iterable")
    else:
        if command is Command.COPYTO:
            signature_args.append(f"{_local('output', arg_names)}: CopyOutput")
        if typed.params or command is Command.ITER or (dynamic and dynamic.parameters):
            signature_args.append("*")
        optional_filters = {arg_names[n - 1] for n in typed.dynamic.filters} if dynamic and typed.dynamic else set()
        signature_args.extend(
            f"{a}: {t}{' = None' if a in optional_filters else ''}" for a, t in zip(arg_names, annotations, strict=True)
        )
        signature_args.extend(dynamic.parameters if dynamic else ())
        if command is Command.ITER:
            signature_args.append(f"{_local('prefetch', arg_names)}: int = 50")

    model_ref: str | None = None
    fields: list[_RowField] = []
    if command is not Command.COPYTO and (len(columns) > 1 or typed.embeds or (command.returns_rows and not columns)):
        reused = None if typed.embeds else _reusable_model(columns, table_models)
        if reused is None:
            fields = _row_fields(typed, column_types, table_models)
            reused = None if typed.embeds else _same_fields_model(fields, columns, table_models)
        if reused is None:
            model_ref = _class_name(f"{pascal_case(query.name)}Row", taken)
            row_model = ModelView(
                model_ref,
                docstring(f"A row returned by {name}."),
                tuple(FieldView(f.name, f.annotation) for f in fields),
                any(t.arbitrary for i, t in enumerate(column_types) if not _embedded(typed, i)),
                frozen=options.frozen,
            )
            models.append(target.model(row_model))
            if typed.embeds:
                imports.add("from . import models")
        else:
            fields = [
                _RowField(f.name, f.annotation, (i,), (t.decode,), (c.nullable,))
                for i, (f, t, c) in enumerate(zip(reused.fields, column_types, columns, strict=True))
            ]
            model_ref = f"models.{reused.name}"
            imports.add("from . import models")
    for index, py in enumerate(column_types if command is not Command.COPYTO else ()):
        if (model_ref is None or not model_ref.startswith("models.")) and not _embedded(typed, index):
            imports |= py.imports  # the annotation appears in this module, not only in models.py
        if py.decode:
            imports |= py.decode_imports

    shape = _Shape(
        name,
        command,
        dynamic.statement if dynamic else _constant_name(query.name),
        [*arg_names, *(p.partition(":")[0] for p in dynamic.parameters)] if dynamic else arg_names,
        dynamic.arguments if dynamic else arguments,
        columns,
        column_types,
        model_ref,
        fields,
        typed.copy_target,
        validate,
        typed.rows.exactly_one,
        target,
        where := f"query {query.name} ({source_path}:{query.file.location(query.annotation_offset).line})",
    )
    result_type, before, call, after, extra_imports = _body(shape)
    imports |= extra_imports | {"from asyncpg import PostgresError"}
    if model_ref is not None and command is not Command.COPYTO:
        imports |= target.construct_imports(validate)
    body = [
        *(dynamic.select if dynamic else ()),
        *before,
        "try:",
        *("    " + line for line in call),
        "except PostgresError as error:",
        f"    error.add_note({literal(where)})",
        "    raise",
        *after,
    ]
    if command is Command.ITER:
        body = [
            "if not conn.is_in_transaction():",
            "    raise NoActiveSQLTransactionError(",
            f'        "{name} reads from a server-side cursor, which needs a transaction:"',
            '        " call it inside `async with conn.transaction():`"',
            "    )",
            *body,
        ]
        imports.add("from asyncpg.exceptions import NoActiveSQLTransactionError")

    returns = f" -> {result_type}"
    signature = wrap_call("", signature_args, indent=0, prefix_len=len(f"async def {name}{returns}:")) + returns
    runs = dataclasses.replace(query, sql=typed.sql) if typed.sql else query  # `*` expanded, see sqlgen.expand
    constants = [(_constant_name(query.name), text_literal(runs.sql)), *(dynamic.constants if dynamic else ())]
    if command in (Command.BATCHONE, Command.BATCHMANY):
        constants.append((f"{_constant_name(query.name)}_BATCH", text_literal(runs.batch_sql)))
    function = FunctionView(
        name=name,
        constants=tuple(constants),
        signature=signature,
        docstring=docstring(query.doc, indent=4) if query.doc else None,
        body=tuple(body),
        tables=dynamic.tables if dynamic else (),
    )
    converted = [t for t in param_types if t.encode] + [t for t in column_types if t.decode]
    definitions = set().union(*(t.definitions for t in converted), dynamic.definitions if dynamic else ())
    codecs = set().union(*(t.codecs for t in (*param_types, *column_types)))
    return function, models, imports, definitions, codecs


def _dynamic(plan: Plan, constant: str, arg_names: Sequence[str], arguments: Sequence[str], alias: str) -> DynamicView:
    """The lines choosing a `sqlgen.dynamic` query's statement, with names no parameter takes."""
    sort_name = ""
    if plan.sort is not None:
        sort_name = _local(parameter_name(plan.sort.param, RESERVED_PARAMETER_NAMES), arg_names)
    taken = [*arg_names, sort_name]
    local = {n: _local(n, taken) for n in ("given", "sort", "sql", "used", "arguments", "built", "key")}
    return dynamic_view(plan, constant, arg_names, arguments, sort_name, local, alias)


def _class_name(wanted: str, taken: set[str]) -> str:
    return next(n for n in unique([*taken, wanted]) if n not in taken)


@dataclass(frozen=True)
class _Shape:
    """What a function body is made from."""

    name: str
    command: Command
    constant: str
    arg_names: Sequence[str]
    arguments: Sequence[str]  # the query's arguments as expressions over the function's parameters
    columns: Sequence[TypedColumn]
    types: Sequence[PyType]
    model: str | None  # the row model, or None for a single value
    fields: Sequence[_RowField]
    copy_target: CopyTarget | None  # where :copyfrom loads rows
    validate: bool  # build the row model through pydantic validation
    one_row: bool  # the statement always returns exactly one row (per parameter set)
    target: Target  # what builds the row model
    where: str  # the query's name and place, for messages

    def no_row(self, indent: int) -> list[str]:
        """The lines (at `indent`) raising when the row that always comes did not."""
        pad = " " * indent
        return [
            f"{pad}raise RuntimeError(",
            f"{pad}    {literal(f'{self.where} returned no row,')}",
            f"{pad}    {literal(' though it always returns one: regenerate if the schema changed')}",
            f"{pad})",
        ]

    def build(self, row: str, indent: int, offset: int = 0, prefix: str = "") -> str:
        """`prefix` and the expression building the row model from the record `row`."""
        assert self.model is not None
        arguments = [f.argument(row, indent + 4, self.validate, self.target, offset) for f in self.fields]
        return self.target.construct(self.model, arguments, indent=indent, validate=self.validate, prefix=prefix)


_Body = tuple[str, list[str], list[str], list[str], set[str]]


def _body(shape: _Shape) -> _Body:
    """The result annotation; the lines before the asyncpg call, the call (inside `try:`), and after; imports.

    Lines are relative to the function body; a line's continuation lines carry their full indentation.
    """
    command, model = shape.command, shape.model
    row, rows, value, status = (_local(name, shape.arg_names) for name in ("row", "rows", "value", "status"))
    call_args = [shape.constant, *shape.arguments]
    if command is Command.EXEC:
        return "None", [], [wrap_call("await conn.execute", call_args, indent=8)], [], set()
    if command is Command.EXECROWS:
        return "int", [], [wrap_call(f"{status} = await conn.execute", call_args, indent=8)], [_count(status)], set()
    if command is Command.EXECRESULT:
        call = wrap_call(f"{status} = await conn.execute", call_args, indent=8)
        return "str", [], [call], [f"return {status}"], set()
    if command is Command.COPYTO:
        output = _local("output", shape.arg_names)
        arguments = [*call_args, f"output={output}", 'format="csv"', "header=True"]
        call = wrap_call(f"{status} = await conn.copy_from_query", arguments, indent=8)
        return "int", [], [call], [_count(status)], set()
    if command.batched:
        return _batch_body(shape, status, rows)

    value_type = ""
    if model is None:
        value_type = optional(shape.types[0].annotation, shape.columns[0].nullable)
    if command is Command.ITER:
        record = _local("record", shape.arg_names) if model is None or shape.fields else "_"  # `_`: rows of no columns
        prefetch = _local("prefetch", shape.arg_names)
        if model is None:
            item = convert(shape.types[0].decode, f"{record}[0]", shape.columns[0].nullable)
        else:
            item = shape.build(record, 12)
        loop = wrap_call(f"async for {record} in conn.cursor", [*call_args, f"prefetch={prefetch}"], indent=8)
        return (
            f"AsyncIterator[{model or value_type}]",
            [],
            [f"{loop}:", f"    yield {item}"],
            [],
            {"from collections.abc import AsyncIterator"},
        )

    if model is None:
        column, py = shape.columns[0], shape.types[0]
        if command is Command.ONE and shape.one_row:
            annotation = optional(py.annotation, column.nullable)
            fetch = wrap_call(f"{row} = await conn.fetchrow", call_args, indent=8)
            no_row = [f"if {row} is None:", *shape.no_row(4)]
            if py.decode is None:
                after = [*no_row, f"{value}: {annotation} = {row}[0]", f"return {value}"]
            else:
                after = [*no_row, f"return {convert(py.decode, f'{row}[0]', column.nullable)}"]
            return annotation, [], [fetch], after, set()
        if command is Command.ONE:
            if py.decode is None:
                annotated = f"{value}: {optional(py.annotation, True)} = await conn.fetchval"
                call = wrap_call(annotated, call_args, indent=8)
                return optional(py.annotation, True), [], [call], [f"return {value}"], set()
            call = wrap_call(f"{value} = await conn.fetchval", call_args, indent=8)
            return optional(py.annotation, True), [], [call], [f"return {convert(py.decode, value, True)}"], set()
        call = wrap_call(f"{rows} = await conn.fetch", call_args, indent=8)
        item = convert(py.decode, "r[0]", column.nullable)
        return f"list[{value_type}]", [], [call], [f"return [{item} for r in {rows}]"], set()

    if command is Command.ONE:
        return (
            model if shape.one_row else f"{model} | None",
            [],
            [wrap_call(f"{row} = await conn.fetchrow", call_args, indent=8)],
            [
                f"if {row} is None:",
                *(shape.no_row(4) if shape.one_row else ["    return None"]),
                shape.build(row, 4, prefix="return "),
            ],
            set(),
        )
    fetch = wrap_call(f"{rows} = await conn.fetch", call_args, indent=8)
    return f"list[{model}]", [], [fetch], _list_of_models(shape, rows, "r"), set()


def _list_of_models(shape: _Shape, rows: str, row: str) -> list[str]:
    """`return [Model(…) for r in rows]`, laid out to fit."""
    one_line = f"return [{shape.build(row, 0)} for {row} in {rows}]"
    if len(one_line) + 4 <= LINE_WIDTH and "\n" not in one_line:
        return [one_line]
    return ["return [", f"    {shape.build(row, 8)}", f"    for {row} in {rows}", "]"]


def _batch_body(shape: _Shape, status: str, rows: str) -> _Body:
    command, model = shape.command, shape.model
    source = "rows" if command is Command.COPYFROM else "params"
    records = _local("records", shape.arg_names)
    before: list[str] = []
    if list(shape.arguments) != list(shape.arg_names):  # some values need converting for asyncpg
        before = [
            f"{records} = (",
            f"    {_tuple(shape.arguments)}",
            f"    for {_tuple(shape.arg_names, bare=True)} in {source}",
            ")",
        ]
        source = records
    if command is Command.COPYFROM:
        target = shape.copy_target
        assert target is not None
        arguments = [
            literal(target.table),
            f"schema_name={literal(target.schema)}",
            f"columns={_tuple([literal(c) for c in target.columns])}",
            f"records={source}",
        ]
        call = wrap_call(f"{status} = await conn.copy_records_to_table", arguments, indent=8)
        return "int", before, [call], [_count(status)], set()
    if command is Command.BATCHEXEC:
        return "None", before, [wrap_call("await conn.executemany", [shape.constant, source], indent=8)], [], set()

    # :batchone and :batchmany: one pipelined round trip; rows come back tagged with their set's index.
    index, args, results = (_local(name, shape.arg_names) for name in ("index", "args", "results"))
    value, unpacked = f"({', '.join([*shape.arguments, index])})", _unpacked(shape.arg_names)
    before = [f"{args} = [{value} for {index}, {unpacked} in enumerate(params)]"]
    if len(before[0]) + 4 > LINE_WIDTH:
        before = [
            f"{args} = [",
            f"    {value}",
            f"    for {index}, {unpacked} in enumerate(params)",
            "]",
        ]
    call = wrap_call(f"{rows} = await conn.fetchmany", [f"{shape.constant}_BATCH", args], indent=8)
    if model is None:
        column, py = shape.columns[0], shape.types[0]
        item_type = optional(py.annotation, column.nullable)
        item = convert(py.decode, "r[1]", column.nullable)
    else:
        item_type = model
        item = shape.build("r", 8, offset=1)
    if command is Command.BATCHONE:
        result = optional(item_type, True)
        after = [
            f"{results}: list[{result}] = [None] * len({args})",
            f"for r in reversed({rows}):  # so that the first row of a parameter set is the one kept",
            f"    {results}[r[0]] = {item}",
            f"return {results}",
        ]
        if not shape.one_row:
            return f"list[{result}]", before, [call], after, set()
        after = [
            f"if len({rows}) != len({args}) or any(r[0] != i for i, r in enumerate({rows})):",
            *shape.no_row(4),
            f"return [{item} for r in {rows}]",
        ]
        return f"list[{item_type}]", before, [call], after, set()
    after = [
        f"{results}: list[list[{item_type}]] = [[] for _ in {args}]",
        f"for r in {rows}:",
        f"    {results}[r[0]].append({item})",
        f"return {results}",
    ]
    return f"list[list[{item_type}]]", before, [call], after, set()


def _tuple(items: Sequence[str], *, bare: bool = False) -> str:
    """A tuple display: `(a, b)`, `(a,)`; bare (for a `for` target): `a, b`, `(a,)`."""
    if len(items) == 1:
        return f"({items[0]},)"
    joined = ", ".join(items)
    return joined if bare else f"({joined})"


def _unpacked(names: Sequence[str]) -> str:
    return f"({names[0]},)" if len(names) == 1 else f"({', '.join(names)})" if names else "_"


def _count(status: str) -> str:
    return f'return int({status}.rpartition(" ")[2])'


@dataclass(frozen=True)
class _RowField:
    """A field of a row model and where its value comes from: one column, or an embedded table's columns."""

    name: str
    annotation: str
    columns: tuple[int, ...]  # indexes into the result's columns
    decodes: tuple[str | None, ...]  # per column
    nullable: tuple[bool, ...]  # per column: whether the conversion must let None through
    model: str | None = None  # an embedded table's model, built from the columns
    model_fields: tuple[str, ...] = ()
    missing: tuple[int, ...] = ()  # columns all None only when the embedded row is missing (outer join)

    def argument(self, row: str, indent: int, validate: bool, target: Target, offset: int = 0) -> str:
        """`name=value` for the model's constructor, its lines after the first indented at `indent`.

        `offset`: how many columns the statement returns before the query's own.
        """
        cells = [
            convert(d, f"{row}[{i + offset}]", n)
            for i, d, n in zip(self.columns, self.decodes, self.nullable, strict=True)
        ]
        if self.model is None:
            return f"{self.name}={cells[0]}"
        guard = ""
        if self.missing:
            guard = f"None if {' and '.join(f'{row}[{i + offset}] is None' for i in self.missing)} else "
        prefix = f"{self.name}={guard}"
        arguments = [f"{f}={c}" for f, c in zip(self.model_fields, cells, strict=True)]
        return target.construct(self.model, arguments, indent=indent, validate=validate, prefix=prefix, prefix_len=1)


def _row_fields(typed: TypedQuery, types: Sequence[PyType], table_models: Mapping[int, TableModel]) -> list[_RowField]:
    """The fields of a query's own row model: its columns, with each `sqlc.embed` as one nested model."""
    embeds = {e.first: e for e in typed.embeds}
    fields: list[_RowField] = []
    names: list[str] = []
    index = 0
    columns = typed.columns
    while index < len(columns):
        embed = embeds.get(index)
        if embed is None:
            column, py = columns[index], types[index]
            names.append(field_name(column.name if column.name != "?column?" else f"column_{index + 1}"))
            fields.append(
                _RowField("", optional(py.annotation, column.nullable), (index,), (py.decode,), (column.nullable,))
            )
            index += 1
            continue
        table_model = table_models[embed.table_oid]
        span = range(embed.first, embed.first + embed.count)
        table_nullable = [table_column_nullable(table_model.table, c.not_null) for c in table_model.table.columns]
        never_null = [i for i, n in zip(span, table_nullable, strict=True) if not n]
        names.append(field_name(snake_case(table_model.name)))
        fields.append(
            _RowField(
                "",
                optional(f"models.{table_model.name}", embed.nullable),
                tuple(span),
                tuple(types[i].decode for i in span),
                tuple(table_nullable),
                f"models.{table_model.name}",
                tuple(f.name for f in table_model.fields),
                tuple(never_null[:1] or span) if embed.nullable else (),
            )
        )
        index += embed.count
    return [dataclasses.replace(f, name=n) for f, n in zip(fields, unique(names), strict=True)]


def _embedded(typed: TypedQuery, index: int) -> bool:
    return any(e.first <= index < e.first + e.count for e in typed.embeds)


def _local(name: str, taken: Sequence[str]) -> str:
    """A local variable name that no parameter uses."""
    while name in taken:
        name += "_"
    return name


def _reusable_model(columns: Sequence[TypedColumn], table_models: Mapping[int, TableModel]) -> TableModel | None:
    """The table model whose columns are exactly these, with the same nullability, if any."""
    if not columns or not columns[0].table_oid:
        return None
    model = table_models.get(columns[0].table_oid)
    if model is None or len(model.table.columns) != len(columns):
        return None
    for column, table_column in zip(columns, model.table.columns, strict=True):
        if column.table_oid != model.table.oid or column.column_number != table_column.number:
            return None
        if column.nullable != table_column_nullable(model.table, table_column.not_null):
            return None
        if column.elements_nullable == table_column.elements_not_null:
            return None
        if column.name != table_column.name:
            return None
    return model


def _same_fields_model(
    fields: Sequence[_RowField], columns: Sequence[TypedColumn], table_models: Mapping[int, TableModel]
) -> TableModel | None:
    """The one table model identical field for field (names, annotations) to a row's fields: a
    `UNION` of a table's rows, or a CTE of them, whose columns PostgreSQL reports without a source."""
    wanted = tuple(FieldView(f.name, f.annotation) for f in fields)
    matches = [m for m in table_models.values() if m.fields == wanted]
    if len(matches) > 1:  # tables alike: the one the columns come from, if any
        sources = {c.table_oid for c in columns}
        matches = [m for m in matches if m.table.oid in sources]
    return matches[0] if len(matches) == 1 else None


def _cannot_validate(query: QuerySource, target: Target) -> Diagnostic:
    return query.file.diagnostic(
        f"query {query.name} asks for validation (-- @validate), which the {target.name} target does not do",
        query.annotation_offset,
        hint="remove -- @validate (rows are built from values asyncpg has typed), or use the asyncpg-pydantic target",
    )


def _unsupported(file: SourceText, offset: int, err: UnsupportedType, what: str, query: str) -> Diagnostic:
    hint = "cast it in the SQL to a type sqlgen supports, e.g. `::text`"
    if err.override is not None:
        hint = f'map it to a Python type under [tool.sqlgen.overrides], e.g. "{err.override}" = "str", or {hint}'
    return file.diagnostic(f"{what} of query {query} has type {err.type_name}, {err.why}", offset, hint=hint)


def _column_offset(query: QuerySource, name: str) -> int:
    """Where the statement first names a result column (for pointing at it), else its start."""
    for token in tokenize(query.sql):
        text = token.text[1:-1] if token.kind is Kind.QUOTED_IDENT else token.text.lower()
        if token.kind in (Kind.IDENT, Kind.QUOTED_IDENT) and text == name:
            return query.file_offset(token.start)
    return query.statement_offset


def _function_name(query_name: str) -> str:
    """The function's name; `_` after one that would shadow a builtin (`list`, `int`, `type`) or a
    name the module itself uses (`datetime`, `json`)."""
    name = snake_case(query_name)
    return f"{name}_" if name in GENERATED_NAMES or hasattr(builtins, name) else name


def _constant_name(query_name: str) -> str:
    return snake_case(query_name).upper()
