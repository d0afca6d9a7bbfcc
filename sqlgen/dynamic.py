"""Optional filters and sort keys: the variant statements of a `-- @dynamic` or `sqlgen.sort` query.

A query marked `-- @dynamic` whose WHERE has conjuncts of the form `(@x::T IS NULL OR cond)`
gets one statement per subset of given filters: a filter that is not given (its argument
is None) is removed, one that is given is kept as `cond`. `ORDER BY sqlgen.sort(@order, a,
b DESC)` gets one statement per sort choice (`"a"`, `"-a"`, `"b"`, `"-b"`: a leading `-`
reverses the key as written). Generated code picks the statement at run time; nothing the
caller passes becomes SQL text.

sqlglot reads the statement's structure (which conjuncts there are, which are optional
filters); the variants are cut from the statement's own text by token offsets, never
re-printed. Every variant is parsed again and compared with what was meant, and prepared on
the server: its parameters and result columns must be exactly the original's. A variant
that fails either check is not used: the query keeps its original statement, with a note.

Up to `MAX_FILTERS` filters and `MAX_STATEMENTS` statements in all, every statement is a
constant of the generated module. Past that bound the module holds the statement's
fragments instead (constants too), and builds a variant the first time it is asked for,
keeping it for the next calls; the variants with no filter, each filter alone and all
filters are the ones checked on the server.

>>> from sqlgen.errors import SourceText
>>> from sqlgen.source import parse_queries
>>> text = "-- name: F :many\\n-- @dynamic\\nSELECT id FROM t WHERE (@a::int IS NULL OR a = @a) AND b\\n"
>>> [query], _ = parse_queries(SourceText("q.sql", text))
>>> template = filter_template(query.sql, query.sort)
>>> [build(template, given, "") for given in range(2)]
[('SELECT id FROM t WHERE b', ()), ('SELECT id FROM t WHERE a = $1 AND b', (0,))]
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlgen.errors import Diagnostic, SourceText, UserError
from sqlgen.sqllex import Kind, LexError, Token, tokenize

if TYPE_CHECKING:
    from sqlglot import exp

    from sqlgen.catalog import Catalog
    from sqlgen.database import DbConnection
    from sqlgen.infer import TypedQuery
    from sqlgen.prepare import Described

MAX_FILTERS = 4  # optional filters whose variants are all constants of the generated module (16 statements)
_REJECTS = "PostgreSQL rejects a variant"
MAX_STATEMENTS = 64  # variants (filters × sort choices) made constants; past this, built when first used


# --- `sqlgen.sort(@order, key, …)` in the query text ---------------------------------------


@dataclass(frozen=True)
class Sort:
    """`sqlgen.sort(@order, title, published_on DESC)`: the parameter and its choices, the first the default."""

    param: str  # the function's parameter, `order`
    choices: tuple[tuple[str, str], ...]  # (value the caller passes, ORDER BY text): ("title", "title"), ("-title", …)
    offset: int  # file offset of `sqlgen.sort`
    sql_start: int = 0  # where the default's text is in the rewritten statement
    sql_end: int = 0


_DIRECTIONS = {"ASC", "DESC"}


def sort_macro(file: SourceText, tokens: Sequence[Token], i: int) -> tuple[int, Sort] | None:
    """`sqlgen.sort(…)` starting at token i: the index after its `)`, and what it declares; None if it is
    not one. A malformed one is a UserError at it."""
    if tokens[i].kind is not Kind.IDENT or tokens[i].text.lower() != "sqlgen":
        return None
    sig = list(itertools.islice((j for j in range(i, len(tokens)) if tokens[j].significant), 4))
    texts = [tokens[j].text for j in sig]
    if len(sig) < 4 or texts[1] != "." or texts[2].lower() != "sort" or texts[3] != "(":
        return None

    def error(message: str, offset: int, hint: str) -> UserError:
        return UserError([file.diagnostic(message, offset, hint=hint)])

    usage = "write `ORDER BY sqlgen.sort(@order, title, published_on DESC)`: a parameter, then the sort keys"
    items: list[list[Token]] = [[]]
    depth, j = 0, sig[3] + 1
    while True:
        if j >= len(tokens):
            raise error("sqlgen.sort( is not closed", tokens[i].start, usage)
        token = tokens[j]
        if token.text in ("(", "[") and token.kind is Kind.PUNCT:
            depth += 1
        elif token.text in (")", "]") and token.kind is Kind.PUNCT:
            if depth == 0:
                break
            depth -= 1
        elif token.text == ";" and token.kind is Kind.PUNCT:
            raise error("sqlgen.sort( is not closed", tokens[i].start, usage)
        if token.kind is Kind.PUNCT and token.text == "," and depth == 0:
            items.append([])
        else:
            items[-1].append(token)
        j += 1
    end = j + 1
    param_tokens = [t for t in items[0] if t.significant]
    if len(param_tokens) != 1 or param_tokens[0].kind is not Kind.NAMED:
        raise error("sqlgen.sort() takes the parameter first, as `@order`", tokens[i].start, usage)
    param = param_tokens[0].text[1:]
    if len(items) < 2:
        raise error("sqlgen.sort() lists no sort keys", tokens[i].start, usage)
    choices: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in items[1:]:
        name, written, reverse, offset = _sort_key(file, item, tokens[i].start, error)
        if name in seen:
            raise error(f"sort key {name!r} is listed twice", offset, "list each key once")
        seen.add(name)
        choices += [(name, written), (f"-{name}", reverse)]
    return end, Sort(param, tuple(choices), tokens[i].start)


def _sort_key(file: SourceText, item: list[Token], at: int, error: Any) -> tuple[str, str, str, int]:
    """A key's name, its ORDER BY text as written, that text reversed, and where it is."""
    sig = [t for t in item if t.significant]
    if not sig:
        raise error("sqlgen.sort() has an empty sort key", at, "remove the extra comma")
    offset = sig[0].start
    for token in sig:
        if token.kind in (Kind.NAMED, Kind.POSITIONAL) or token.text.lower() in ("sqlc", "sqlgen"):
            raise error(
                "a sort key cannot hold a parameter: the keys are fixed SQL, the parameter only chooses one",
                token.start,
                "list the columns or expressions to sort by",
            )
    words = [t.text.upper() if t.kind is Kind.IDENT else "" for t in sig]
    name: str | None = None
    if len(sig) >= 3 and words[-2] == "AS" and sig[-1].kind in (Kind.IDENT, Kind.QUOTED_IDENT):
        name = sig[-1].text.lower() if sig[-1].kind is Kind.IDENT else sig[-1].text[1:-1].replace('""', '"')
        sig, words = sig[:-2], words[:-2]
    written = file.text[sig[0].start : sig[-1].end] if sig else ""
    nulls: str | None = None
    if len(sig) >= 3 and words[-2] == "NULLS" and words[-1] in ("FIRST", "LAST"):
        nulls, sig, words = words[-1], sig[:-2], words[:-2]
    descending = False
    if len(sig) >= 2 and words[-1] in _DIRECTIONS:
        descending, sig, words = words[-1] == "DESC", sig[:-1], words[:-1]
    if "USING" in words:
        raise error("sqlgen.sort() keys cannot sort USING an operator", offset, "write ASC or DESC")
    if not sig:
        raise error("a sort key needs an expression to sort by", offset, "write the column first, e.g. `price DESC`")
    expression = file.text[sig[0].start : sig[-1].end]
    if name is None:
        names = [t for t in sig if t.kind in (Kind.IDENT, Kind.QUOTED_IDENT)]
        dotted = all(t.text == "." for t in sig[1::2]) and len(names) == (len(sig) + 1) // 2
        if not dotted or not names:
            raise error(
                f"name the sort key `{expression}`: only a column names itself",
                offset,
                f"write `{expression} AS some_name`",
            )
        last = names[-1]
        name = last.text.lower() if last.kind is Kind.IDENT else last.text[1:-1].replace('""', '"')
    reverse = expression + ("" if descending else " DESC")
    if nulls:
        reverse += " NULLS " + ("LAST" if nulls == "FIRST" else "FIRST")
    return name, written, reverse, offset


# --- recognising the optional filters (sqlglot) ------------------------------------------


@dataclass(frozen=True)
class Conjunct:
    start: int  # its text in the statement
    end: int
    param: int | None  # an optional filter's parameter number, None for a conjunct always kept
    cond: tuple[int, int] | None = None  # the text kept when the filter is given
    wrap: bool = False  # the kept text needs parentheses (it is several OR-ed conditions)


@dataclass(frozen=True)
class Where:
    """The top-level WHERE of a statement, cut into its AND-ed conjuncts."""

    space_start: int  # where the space before `WHERE` starts
    body_start: int  # where the first conjunct starts
    conjuncts: tuple[Conjunct, ...]

    @property
    def filters(self) -> tuple[int, ...]:
        """The optional filters' parameter numbers, in the order they first appear."""
        return tuple(dict.fromkeys(c.param for c in self.conjuncts if c.param is not None))


_CLAUSE_ENDS = frozenset(
    {
        "GROUP",
        "HAVING",
        "WINDOW",
        "ORDER",
        "LIMIT",
        "OFFSET",
        "FETCH",
        "FOR",
        "RETURNING",
        "UNION",
        "INTERSECT",
        "EXCEPT",
    }
)


def parse(sql: str) -> exp.Expr | None:
    """sqlglot's tree of one statement (PostgreSQL dialect), or None when it cannot read it."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(sql, dialect="postgres")
    except (SqlglotError, RecursionError, ValueError):
        return None
    return tree


def optional_filter(node: exp.Expr) -> tuple[int, list[exp.Expr], int] | None:
    """For `(@x IS NULL OR cond…)` (`$n`, `@x::T`, `sqlc.narg(x)::T` all read as `$n`): the parameter's number,
    the other disjuncts, and the IS NULL disjunct's index; None for any other condition."""
    from sqlglot import exp

    while isinstance(node, exp.Paren):
        node = node.this
    if not isinstance(node, exp.Or):
        return None
    disjuncts = list(node.flatten(unnest=False))
    tests = [(k, n) for k, d in enumerate(disjuncts) if (n := _null_test(d)) is not None]
    if len(tests) != 1:
        return None
    index, number = tests[0]
    rest = [d for k, d in enumerate(disjuncts) if k != index]
    if not rest or not all(_uses(d, number) for d in rest):
        return None
    return number, rest, index


def _null_test(node: exp.Expr) -> int | None:
    from sqlglot import exp

    if not isinstance(node, exp.Is) or not isinstance(node.expression, exp.Null):
        return None
    inner = node.this
    while isinstance(inner, exp.Cast | exp.Paren):
        inner = inner.this
    return _parameter_number(inner)


def _parameter_number(node: exp.Expr) -> int | None:
    from sqlglot import exp

    if isinstance(node, exp.Parameter) and isinstance(node.this, exp.Literal) and str(node.this.this).isdigit():
        return int(node.this.this)
    return None


def _uses(node: exp.Expr, number: int) -> bool:
    from sqlglot import exp

    return any(_parameter_number(p) == number for p in node.find_all(exp.Parameter))


def top_where(tree: exp.Expr) -> exp.Expr | None:
    """The condition of the statement's own WHERE (a SELECT, UPDATE or DELETE), or None."""
    from sqlglot import exp

    if not isinstance(tree, exp.Select | exp.Update | exp.Delete):
        return None
    where = tree.args.get("where")
    return where.this if isinstance(where, exp.Where) else None


def conjuncts_of(condition: exp.Expr) -> list[exp.Expr]:
    from sqlglot import exp

    return list(condition.flatten(unnest=False)) if isinstance(condition, exp.And) else [condition]


def find_where(sql: str) -> Where | None:
    """The statement's top-level WHERE with its conjuncts and optional filters, or None when it has none or
    its text cannot be matched to sqlglot's reading exactly (then nothing is rewritten)."""
    tree = parse(sql)
    condition = top_where(tree) if tree is not None else None
    if condition is None:
        return None
    try:
        tokens = tokenize(sql)
    except LexError:
        return None
    depths = _depths(tokens)
    where_at = [
        k for k, t in enumerate(tokens) if depths[k] == 0 and t.kind is Kind.IDENT and t.text.upper() == "WHERE"
    ]
    if len(where_at) != 1:
        return None
    w = where_at[0]
    end = next(
        (
            k
            for k in range(w + 1, len(tokens))
            if depths[k] == 0 and tokens[k].kind is Kind.IDENT and tokens[k].text.upper() in _CLAUSE_ENDS
        ),
        len(tokens),
    )
    body = [k for k in range(w + 1, end) if tokens[k].significant]
    if not body:
        return None
    pieces = _split(tokens, depths, body, "AND", 0)
    nodes = conjuncts_of(condition)
    spans = _match(sql, pieces, nodes)
    if spans is None:
        return None
    conjuncts: list[Conjunct] = []
    for (start, stop), node in zip(spans, nodes, strict=True):
        conjuncts.append(_conjunct(sql, tokens, depths, start, stop, node))
    before = w - 1 if w > 0 and tokens[w - 1].kind is Kind.SPACE else w
    return Where(tokens[before].start, spans[0][0], tuple(conjuncts))


def _conjunct(sql: str, tokens: list[Token], depths: list[int], start: int, stop: int, node: exp.Expr) -> Conjunct:
    from sqlglot import exp

    found = optional_filter(node)
    if found is None:
        return Conjunct(start, stop, None)
    number, rest, index = found
    inside = [k for k, t in enumerate(tokens) if start <= t.start and t.end <= stop and t.significant]
    level = depths[inside[0]]
    inner = node
    while isinstance(inner, exp.Paren):  # strip the parentheses' tokens as sqlglot strips the nodes
        if tokens[inside[0]].text != "(" or tokens[inside[-1]].text != ")":
            return Conjunct(start, stop, None)
        inside, level, inner = inside[1:-1], level + 1, inner.this
    disjuncts = list(inner.flatten(unnest=False)) if isinstance(inner, exp.Or) else [inner]
    spans = _match(sql, _split(tokens, depths, inside, "OR", level), disjuncts)
    if spans is None or len(spans) != len(rest) + 1:
        return Conjunct(start, stop, None)
    if index == 0:
        cond = (spans[1][0], spans[-1][1])
    elif index == len(spans) - 1:
        cond = (spans[0][0], spans[-2][1])
    else:  # the IS NULL test between other conditions: not cut out of the text
        return Conjunct(start, stop, None)
    return Conjunct(start, stop, number, cond, len(rest) > 1)


def _depths(tokens: list[Token]) -> list[int]:
    depths, depth = [], 0
    for token in tokens:
        if token.kind is Kind.PUNCT and token.text in ")]":
            depth -= 1
        depths.append(depth)
        if token.kind is Kind.PUNCT and token.text in "([":
            depth += 1
    return depths


def _split(tokens: list[Token], depths: list[int], indexes: list[int], word: str, level: int) -> list[tuple[int, int]]:
    """The text spans between the `word` tokens (AND, OR) at `level` among the significant tokens `indexes`."""
    pieces: list[tuple[int, int]] = []
    current: list[int] = []
    for k in indexes:
        token = tokens[k]
        if depths[k] == level and token.kind is Kind.IDENT and token.text.upper() == word:
            if current:
                pieces.append((tokens[current[0]].start, tokens[current[-1]].end))
            current = []
        else:
            current.append(k)
    if current:
        pieces.append((tokens[current[0]].start, tokens[current[-1]].end))
    return pieces


def _match(sql: str, pieces: list[tuple[int, int]], nodes: list[exp.Expr]) -> list[tuple[int, int]] | None:
    """The text span of each node: consecutive pieces joined (a BETWEEN's AND splits one) until the text
    parses to exactly that node; None when the text and sqlglot's tree do not line up."""
    spans: list[tuple[int, int]] = []
    position = 0
    for node in nodes:
        for stop in range(position, len(pieces)):
            text = sql[pieces[position][0] : pieces[stop][1]]
            if parse(text) == node:
                spans.append((pieces[position][0], pieces[stop][1]))
                position = stop + 1
                break
        else:
            return None
    return spans if position == len(pieces) else None


# --- the statement as fragments, and building a variant ----------------------------------

Part = str | int | None  # text, a parameter (its number in the original statement), or the sort slot
Parts = tuple[Part, ...]


@dataclass(frozen=True)
class Template:
    """A statement cut where variants differ; `build` puts a variant together (generated code has the same)."""

    head: Parts  # before the WHERE
    where: str  # the space before `WHERE`, the keyword, and the space after it
    conjuncts: tuple[tuple[int, str, Parts], ...]  # (filter bit or -1, the separator before it, its text)
    tail: Parts  # after the last conjunct


def build(template: Template, given: int, sort: str) -> tuple[str, tuple[int, ...]]:
    """The variant for the filters `given` (bit i: filter i is given) and the ORDER BY text `sort`: its SQL, with
    parameters numbered from $1 in the original's order, and the 0-based indexes of the original parameters it
    takes, in that order."""
    kept = [(separator, parts) for bit, separator, parts in template.conjuncts if bit < 0 or given >> bit & 1]
    pieces: list[Part] = [*template.head]
    for index, (separator, parts) in enumerate(kept):
        pieces += [template.where if index == 0 else separator, *parts]
    pieces += template.tail
    used = sorted({p for p in pieces if isinstance(p, int)})
    numbers = {n: i + 1 for i, n in enumerate(used)}
    sql = "".join(sort if p is None else p if isinstance(p, str) else f"${numbers[p]}" for p in pieces)
    return sql, tuple(n - 1 for n in used)


def filter_template(
    sql: str, sort: Sort | None, where: Where | None = None, casts: dict[int, str] | None = None
) -> Template:
    """`sql` as a template: its optional filters (from `find_where`) gated by bits in their order, the sort
    slot where `sort`'s default stands. `casts`: parameters written `($n::type)` everywhere."""
    if where is None:
        where = find_where(sql)
    slot = (sort.sql_start, sort.sql_end) if sort is not None else None
    casts = casts or {}

    def parts(start: int, end: int) -> Parts:
        return _parts(sql, start, end, slot, casts)

    if where is None or not where.filters:
        return Template(parts(0, len(sql)), "", (), ())
    bits = {number: bit for bit, number in enumerate(where.filters)}
    conjuncts: list[tuple[int, str, Parts]] = []
    previous = where.body_start
    for conjunct in where.conjuncts:
        separator = sql[previous : conjunct.start]
        if conjunct.param is None:
            conjuncts.append((-1, separator, parts(conjunct.start, conjunct.end)))
        else:
            assert conjunct.cond is not None
            text = parts(*conjunct.cond)
            conjuncts.append((bits[conjunct.param], separator, ("(", *text, ")") if conjunct.wrap else text))
        previous = conjunct.end
    head = parts(0, where.space_start)
    return Template(head, sql[where.space_start : where.body_start], tuple(conjuncts), parts(previous, len(sql)))


def _parts(sql: str, start: int, end: int, slot: tuple[int, int] | None, casts: dict[int, str]) -> Parts:
    """The text from start to end as text, parameter numbers and the sort slot (None)."""
    out: list[Part] = []
    cursor = start
    for token in tokenize(sql[start:end]):
        at, stop = start + token.start, start + token.end
        if slot is not None and slot[0] <= at < slot[1]:
            if at == slot[0]:
                out += [sql[cursor:at], None]
            cursor = max(cursor, min(stop, slot[1]))
            continue
        if token.kind is Kind.POSITIONAL:
            number = int(token.text[1:])
            out.append(sql[cursor:at])
            out += ["(", number, f"::{casts[number]})"] if number in casts else [number]
            cursor = stop
    out.append(sql[cursor:end])
    merged: list[Part] = []
    for part in out:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    return tuple(merged)


# --- the stage: variants derived and checked on the server --------------------------------


@dataclass(frozen=True)
class Plan:
    """What generated code needs to pick a query's statement: a constant per variant (`statements`, at index
    sort choice × 2^len(filters) + given filters), or the fragments to build each from (`template`)."""

    filters: tuple[int, ...]  # parameter numbers; bit i of `given` is filters[i]
    sort: Sort | None
    statements: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (SQL, indexes of the arguments it takes)
    template: Template | None = None

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(value for value, _ in self.sort.choices) if self.sort is not None else ("",)


def derive_variants(
    conn: DbConnection, catalog: Catalog, typed: Sequence[TypedQuery]
) -> tuple[list[TypedQuery], list[Diagnostic]]:
    """`typed` with a `Plan` on each `@dynamic` or `sqlgen.sort` query, every variant checked on the server;
    notes for filters left as written, errors (and the query left out) for sort keys the server rejects."""
    result: list[TypedQuery] = []
    diagnostics: list[Diagnostic] = []
    for query in typed:
        source = query.described.query
        if not source.dynamic and source.sort is None:
            result.append(query)
            continue
        try:
            plan, notes = _plan(conn, catalog, query)
        except UserError as err:
            diagnostics.extend(err.diagnostics)
            continue
        diagnostics.extend(notes)
        result.append(dataclasses.replace(query, dynamic=plan) if plan.filters or plan.sort else query)
    return result, diagnostics


def _base(query: TypedQuery) -> tuple[str, Sort | None]:
    """The statement variants are cut from (stars expanded when that leaves the sort slot where it was)."""
    source = query.described.query
    sort = source.sort
    if not query.sql or query.sql == source.sql:
        return source.sql, sort
    if sort is None:
        return query.sql, None
    shift = len(query.sql) - len(source.sql)
    if query.sql.endswith(source.sql[sort.sql_start :]):  # the stars were before the slot
        return query.sql, dataclasses.replace(sort, sql_start=sort.sql_start + shift, sql_end=sort.sql_end + shift)
    if query.sql.startswith(source.sql[: sort.sql_end]):  # after it
        return query.sql, sort
    return source.sql, sort


def _plan(conn: DbConnection, catalog: Catalog, query: TypedQuery) -> tuple[Plan, list[Diagnostic]]:
    source = query.described.query
    if source.command.batched:
        raise UserError(
            [
                source.diagnostic(
                    f"query {source.name} is {source.command.value}: its parameter sets share one statement,"
                    " so it cannot have optional filters or a sort parameter",
                    hint="use :many, :one or :exec, or drop `-- @dynamic` and sqlgen.sort",
                )
            ]
        )
    sql, sort = _base(query)
    sorts = [text for _, text in sort.choices] if sort is not None else [""]
    plain = filter_template(sql, sort, Where(0, 0, ()))
    if sort is not None:  # each sort choice on the statement as written: a rejected key is the user's mistake
        checks = [build(plain, 0, text) for text in sorts]
        failures = _check(conn, query, checks)
        for text, problem in zip(sorts, failures, strict=True):
            if isinstance(problem, set):
                problem = "its parameters take other types than with the first key"
            if problem is not None:
                raise UserError(
                    [
                        source.file.diagnostic(
                            f"sort key `{text}` of query {source.name}: {problem.removeprefix(_REJECTS + ': ')}",
                            sort.offset,
                            hint="each key must be something the statement can ORDER BY",
                        )
                    ]
                )
    notes: list[Diagnostic] = []
    where = find_where(sql) if source.dynamic else None
    nullable = {p.number for p in query.params if p.nullable}
    filters = tuple(n for n in where.filters if n in nullable) if where is not None else ()
    if where is not None:
        where = dataclasses.replace(
            where,
            conjuncts=tuple(c if c.param in filters else dataclasses.replace(c, param=None) for c in where.conjuncts),
        )
    if source.dynamic and parse(sql) is None:
        notes.append(
            source.diagnostic(
                f"query {source.name} keeps its optional filters as written: sqlglot does not parse the statement",
                hint="the statement runs as written; simplify the SQL sqlglot cannot read to get its variants",
                severity="note",
            )
        )
    elif source.dynamic and not filters:
        notes.append(
            source.diagnostic(
                f"query {source.name} is marked `-- @dynamic`, but sqlgen finds no optional filter in its WHERE:"
                " it runs as written",
                hint="an optional filter is a condition of the statement's own WHERE, AND-ed with the others,"
                " written `(sqlc.narg(x)::type IS NULL OR column = sqlc.narg(x))`",
                severity="warning",
            )
        )
    if filters:
        assert where is not None
        template, problem = _checked_template(conn, catalog, query, sql, sort, where, len(sorts))
        if template is not None:
            return _finish(query, filters, sort, template, len(sorts)), notes
        notes.append(
            source.diagnostic(
                f"query {source.name} keeps its optional filters as written: {problem}",
                hint="PostgreSQL or sqlglot reads a variant without a filter differently from the statement;"
                " the statement as written is always right, but may not use an index once its plan is generic",
                severity="note",
            )
        )
    return _finish(query, (), sort, plain, len(sorts)), notes


def _finish(query: TypedQuery, filters: tuple[int, ...], sort: Sort | None, template: Template, sorts: int) -> Plan:
    count = sorts << len(filters)
    if len(filters) > MAX_FILTERS or count > MAX_STATEMENTS:
        return Plan(filters, sort, template=template)
    texts = [text for _, text in sort.choices] if sort is not None else [""]
    statements = tuple(build(template, given, text) for text in texts for given in range(1 << len(filters)))
    return Plan(filters, sort, statements)


def _checked_template(
    conn: DbConnection, catalog: Catalog, query: TypedQuery, sql: str, sort: Sort | None, where: Where, sorts: int
) -> tuple[Template | None, str]:
    """The filters' template, when every variant checked reads as meant and PostgreSQL describes it as it
    describes the statement (parameters written with the original's types where they would differ)."""
    filters = where.filters
    texts = [text for _, text in sort.choices] if sort is not None else [""]
    count = sorts << len(filters)
    if len(filters) > MAX_FILTERS or count > MAX_STATEMENTS:
        wanted = sorted({0, (1 << len(filters)) - 1, *(1 << bit for bit in range(len(filters)))})
        pairs = [(given, texts[0]) for given in wanted] + [(0, text) for text in texts[1:]]
    else:
        pairs = [(given, text) for text in texts for given in range(1 << len(filters))]
    casts: dict[int, str] = {}
    for _attempt in range(2):
        template = filter_template(sql, sort, where, casts)
        variants = [build(template, given, text) for given, text in pairs]
        for (given, _), (variant, used) in zip(pairs, variants, strict=True):
            if not _reads_as_meant(sql, where, given, variant, used):
                return None, "sqlglot does not read a variant as the statement without the filters not given"
        problems = _check(conn, query, variants)
        mismatched = {n for problem in problems if isinstance(problem, set) for n in problem}
        failed = next((p for p in problems if isinstance(p, str)), None)
        if failed is not None:
            return None, failed
        if not mismatched:
            return template, ""
        if casts:
            break
        casts = {n: _type_name(catalog, query.described.param_types[n - 1]) for n in mismatched}
    return None, "a variant's parameters take other types than the statement's"


def _reads_as_meant(sql: str, where: Where, given: int, variant: str, used: tuple[int, ...]) -> bool:
    """Whether sqlglot reads the variant's WHERE as the statement's conjuncts, with the filters not given
    removed and those given as their conditions (parameters compared by their original numbers)."""
    from sqlglot import exp

    original, again = parse(sql), parse(variant)
    if original is None or again is None:
        return False
    back = {k + 1: index + 1 for k, index in enumerate(used)}

    def renumber(node: exp.Expr) -> exp.Expr:
        number = _parameter_number(node)
        if number is not None and number in back:
            return exp.Parameter(this=exp.Literal.number(back[number]))
        return node

    bits = {number: bit for bit, number in enumerate(where.filters)}
    expected: list[exp.Expr] = []
    condition = top_where(original)
    assert condition is not None
    for conjunct, node in zip(where.conjuncts, conjuncts_of(condition), strict=True):
        if conjunct.param is None:
            expected.append(node)
        elif given >> bits[conjunct.param] & 1:
            found = optional_filter(node)
            assert found is not None
            rest = found[1]
            expected.extend([rest[0]] if len(rest) == 1 else [exp.Paren(this=_or(rest))])
    got = top_where(again.transform(renumber))
    got_list = [] if got is None else conjuncts_of(got)
    return [_stripped_casts(e) for e in got_list] == [_stripped_casts(e) for e in expected]


def _or(nodes: list[exp.Expr]) -> exp.Expr:
    from sqlglot import exp

    result = nodes[0]
    for node in nodes[1:]:
        result = exp.Or(this=result, expression=node)
    return result


def _stripped_casts(node: exp.Expr) -> exp.Expr:
    """The node with the parenthesised casts `casts` adds to parameters, `($n::type)`, read as `$n`."""
    from sqlglot import exp

    def strip(inner: exp.Expr) -> exp.Expr:
        if isinstance(inner, exp.Paren) and isinstance(inner.this, exp.Cast):
            parameter: exp.Expr = inner.this.this
            if _parameter_number(parameter) is not None:
                return parameter
        return inner

    return node.copy().transform(strip)


def _type_name(catalog: Catalog, oid: int) -> str:
    from sqlgen.expand import quote_identifier

    pg_type = catalog.types.get(oid)
    if pg_type is None:
        return f"pg_catalog.regtype '{oid}'"
    name = quote_identifier(pg_type.name)
    return name if pg_type.schema == "pg_catalog" else f"{quote_identifier(pg_type.schema)}.{name}"


def _check(
    conn: DbConnection, query: TypedQuery, variants: Sequence[tuple[str, tuple[int, ...]]]
) -> list[str | set[int] | None]:
    """Per variant: None when PostgreSQL describes it as the statement (same result columns, each parameter the
    type of the original it stands for); the numbers of the original parameters whose types differ; or what is
    wrong, as text."""
    from sqlgen.prepare import describe_queries

    source = query.described.query
    sources = [dataclasses.replace(source, sql=sql, edits=(), dynamic=False, sort=None) for sql, _ in variants]
    described, errors = describe_queries(conn, sources)
    by_source = {id(d.query): d for d in described}
    original = query.described
    messages = iter(errors)  # one per rejected variant, in order
    results: list[str | set[int] | None] = []
    for variant, (_, used) in zip(sources, variants, strict=True):
        again = by_source.get(id(variant))
        if again is None:
            error = next(messages, None)
            results.append(_REJECTS + (f": {error.message}" if error else ""))
            continue
        results.append(_compare(original, again, used))
    return results


def _compare(original: Described, again: Described, used: tuple[int, ...]) -> str | set[int] | None:
    if again.columns != original.columns:
        return "a variant returns other columns than the statement"
    if len(again.param_types) != len(used):
        return "a variant takes other parameters than the statement"
    differ = {
        index + 1 for index, oid in zip(used, again.param_types, strict=True) if original.param_types[index] != oid
    }
    return differ or None


# --- the describe cache -------------------------------------------------------------------


def encode_plan(plan: Plan | None) -> Any:
    if plan is None:
        return None
    template = plan.template
    return {
        "filters": list(plan.filters),
        "sort": None if plan.sort is None else dataclasses.asdict(plan.sort),
        "statements": [[sql, list(used)] for sql, used in plan.statements],
        "template": None
        if template is None
        else [
            list(template.head),
            template.where,
            [[b, s, list(p)] for b, s, p in template.conjuncts],
            list(template.tail),
        ],
    }


def decode_plan(data: Any) -> Plan | None:
    if data is None:
        return None
    sort = data["sort"]
    template = data["template"]
    return Plan(
        tuple(data["filters"]),
        None
        if sort is None
        else Sort(
            sort["param"], tuple((v, t) for v, t in sort["choices"]), sort["offset"], sort["sql_start"], sort["sql_end"]
        ),
        tuple((str(sql), tuple(used)) for sql, used in data["statements"]),
        None
        if template is None
        else Template(
            tuple(template[0]), template[1], tuple((b, s, tuple(p)) for b, s, p in template[2]), tuple(template[3])
        ),
    )


def lazy_variants(plan: Plan) -> Iterator[tuple[int, str, tuple[int, ...]]]:
    """Every variant of a lazily built plan with its index (for tests: generated code builds the same)."""
    assert plan.template is not None
    for index, text in enumerate(t for _, t in plan.sort.choices) if plan.sort else [(0, "")]:
        for given in range(1 << len(plan.filters)):
            sql, used = build(plan.template, given, text)
            yield index << len(plan.filters) | given, sql, used
