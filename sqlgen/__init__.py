"""sqlgen: typed async Python (asyncpg + pydantic) from annotated PostgreSQL queries."""

__version__ = "0.1.0"
