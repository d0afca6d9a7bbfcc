"""sqlgen: typed async Python (asyncpg + pydantic) from annotated PostgreSQL queries.

The Python API (`sqlgen.generate`, `sqlgen.check`, `sqlgen.describe`, `sqlgen.Package`) lives
in `sqlgen.api`, its failures (`sqlgen.SqlgenError`: `UserError`, `ToolError`) in
`sqlgen.errors`; they are loaded when first used, so that the command line starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Package", "SqlgenError", "ToolError", "UserError", "check", "describe", "generate"]

if TYPE_CHECKING:
    from sqlgen.api import Package, check, describe, generate
    from sqlgen.errors import SqlgenError, ToolError, UserError


def __getattr__(name: str) -> Any:
    if name in ("SqlgenError", "ToolError", "UserError"):
        from sqlgen import errors

        return getattr(errors, name)
    if name in __all__:
        from sqlgen import api

        return getattr(api, name)
    raise AttributeError(f"module 'sqlgen' has no attribute {name!r}")
