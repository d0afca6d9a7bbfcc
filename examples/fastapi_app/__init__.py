"""A FastAPI app on the generated query package: see docs/fastapi.md."""
