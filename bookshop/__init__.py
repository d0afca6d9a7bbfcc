"""The example project's own Python types, which `[tool.sqlgen.overrides]` maps columns to."""
