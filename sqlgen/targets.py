"""Output targets: what generated code builds its models with (pydantic, msgspec), behind one protocol.

Everything else the render stage makes — SQL constants, signatures, asyncpg calls, conversions —
is the same for every target; a target answers only the questions that depend on the model
library: how a model class is declared and imported, how a row becomes a model, how channel
payloads cross JSON, how override types are checked, and what the package's `__init__.py` holds.

>>> get_target("asyncpg-msgspec").construct("Author", ["id=r[0]"], indent=4, validate=False)
'Author(id=r[0])'
>>> get_target("asyncpg-pydantic").construct("Author", ["id=r[0]"], indent=4, validate=False)
'_trusted(Author, id=r[0])'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlgen.layout import ModelView, construct, wrap_call
from sqlgen.typemap import PYDANTIC_OVERRIDES, OverrideCodec

DEFAULT_TARGET = "asyncpg-pydantic"


class Target(Protocol):
    """What the render stage asks of a target. Implementations are stateless and frozen."""

    @property
    def name(self) -> str:
        """The value of `target` in [tool.sqlgen] that chooses it."""
        ...

    @property
    def validates(self) -> bool:
        """Whether `validate = true` / `-- @validate` can build rows through validation."""
        ...

    @property
    def overrides(self) -> OverrideCodec:
        """How an override's type is checked on the way out (and JSON-encoded on the way in)."""
        ...

    @property
    def init_template(self) -> str:
        """The template (in `sqlgen/templates/`) of the package's `__init__.py`: its runtime helpers."""
        ...

    @property
    def payload_hint(self) -> str:
        """What a channel's payload class must be, for diagnostics: "a pydantic model"."""
        ...

    @property
    def json_payloads(self) -> bool:
        """Whether a channel's payload may hold json/jsonb values (`JsonDocument`) and still decode."""
        ...

    @property
    def validation_error(self) -> str:
        """The exception a payload that does not decode raises, as the Listener's docstring names it."""
        ...

    def model(self, view: ModelView) -> ModelView:
        """A row, table or composite model declared the target's way (its `base`, and no pydantic config)."""
        ...

    def model_imports(self, models: Iterable[ModelView]) -> set[str]:
        """The imports the declarations of `models` need."""
        ...

    def construct(
        self,
        model: str,
        arguments: Sequence[str],
        *,
        indent: int,
        validate: bool,
        prefix: str = "",
        prefix_len: int = 0,
    ) -> str:
        """`prefix` and an expression building `model` from `name=value` arguments, already converted."""
        ...

    def construct_imports(self, validate: bool) -> set[str]:
        """What `construct` needs imported."""
        ...

    def encode_payload(self, value: str) -> str:
        """An expression: the channel payload `value` (a model) as JSON text."""
        ...

    def payload_decoder(self, model: str) -> str:
        """An expression: a function from JSON text to a `model`, for `Listener`."""
        ...

    def payload_imports(self) -> set[str]:
        """What `encode_payload` and `payload_decoder` need."""
        ...


@dataclass(frozen=True)
class PydanticTarget:
    """asyncpg + pydantic v2 models: rows are built with the package's `_trusted` (or validated)."""

    name: str = "asyncpg-pydantic"
    validates: bool = True
    overrides: OverrideCodec = PYDANTIC_OVERRIDES
    init_template: str = "__init__.py.jinja"
    payload_hint: str = "a pydantic model"
    json_payloads: bool = True
    validation_error: str = "pydantic's `ValidationError`"

    def model(self, view: ModelView) -> ModelView:
        return view

    def model_imports(self, models: Iterable[ModelView]) -> set[str]:
        models = list(models)
        imports = set()
        if any(m.base == "BaseModel" for m in models):
            imports.add("from pydantic import BaseModel")
        if any(m.config for m in models):
            imports.add("from pydantic import ConfigDict")
        return imports

    def construct(
        self,
        model: str,
        arguments: Sequence[str],
        *,
        indent: int,
        validate: bool,
        prefix: str = "",
        prefix_len: int = 0,
    ) -> str:
        return construct(model, arguments, indent=indent, validate=validate, prefix=prefix, prefix_len=prefix_len)

    def construct_imports(self, validate: bool) -> set[str]:
        return set() if validate else {"from . import _trusted"}

    def encode_payload(self, value: str) -> str:
        return f"{value}.model_dump_json()"

    def payload_decoder(self, model: str) -> str:
        return f"{model}.model_validate_json"

    def payload_imports(self) -> set[str]:
        return set()


MSGSPEC_OVERRIDES = OverrideCodec(
    imports=frozenset({"import msgspec"}),
    python_definition="",
    json_definition="<adapter> = msgspec.json.Decoder(<annotation>)",
    decode_python="msgspec.convert({}, type=<annotation>)",
    decode_json="<adapter>.decode({})",
    encode_json="msgspec.json.encode({}).decode()",
)


@dataclass(frozen=True)
class MsgspecTarget:
    """asyncpg + `msgspec.Struct` models: rows are built by calling the Struct, which checks nothing (the
    values are converted already); payloads cross JSON with `msgspec.json`."""

    name: str = "asyncpg-msgspec"
    validates: bool = False
    overrides: OverrideCodec = MSGSPEC_OVERRIDES
    init_template: str = "__init__msgspec.py.jinja"
    payload_hint: str = "a msgspec Struct"
    json_payloads: bool = False  # JsonDocument's JSON_NULL is no type msgspec decodes
    validation_error: str = "`msgspec.DecodeError`"  # msgspec.ValidationError is one

    def model(self, view: ModelView) -> ModelView:
        base = "msgspec.Struct, frozen=True" if view.frozen else "msgspec.Struct"
        return dataclasses.replace(view, base=base)

    def model_imports(self, models: Iterable[ModelView]) -> set[str]:
        return {"import msgspec"} if any(m.base.startswith("msgspec.Struct") for m in models) else set()

    def construct(
        self,
        model: str,
        arguments: Sequence[str],
        *,
        indent: int,
        validate: bool,
        prefix: str = "",
        prefix_len: int = 0,
    ) -> str:
        return wrap_call(f"{prefix}{model}", arguments, indent=indent, prefix_len=prefix_len)

    def construct_imports(self, validate: bool) -> set[str]:
        return set()

    def encode_payload(self, value: str) -> str:
        return f"msgspec.json.encode({value}).decode()"

    def payload_decoder(self, model: str) -> str:
        return f"msgspec.json.Decoder({model}).decode"

    def payload_imports(self) -> set[str]:
        return {"import msgspec"}


TARGETS: dict[str, Target] = {t.name: t for t in (PydanticTarget(), MsgspecTarget())}


def get_target(name: str) -> Target:
    """The target named `name` (config has checked it is one of `TARGETS`)."""
    return TARGETS[name]
