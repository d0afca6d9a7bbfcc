"""Cluster-wide objects a schema changed on a live server, put back as they were.

A schema file runs in one database, but some of what it can do reaches the whole server:
`CREATE ROLE`, `CREATE DATABASE`, `CREATE TABLESPACE`, `ALTER ROLE … SET`, `GRANT role TO
role`. Dropping the test database leaves those behind, and the next session then fails
(`role "app" already exists`). `ClusterState` records them before the schema runs;
`restore` compares and undoes the difference: roles, databases and tablespaces that appeared
are dropped (with what the new roles own, and their privileges), role settings
(`pg_db_role_setting`) are put back to what they were, and memberships that appeared are
revoked. What it does not undo — `ALTER SYSTEM`, changed attributes or passwords of roles
that existed — is listed by `restore`, for the caller to report.

It works by difference, so objects another session creates on the same server while the
schema is applied would be taken for the schema's: give concurrent sessions servers of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

_ROLE_ATTRIBUTES = (
    "rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls,"
    " rolconnlimit, rolvaliduntil"
)


@dataclass(frozen=True)
class ClusterState:
    roles: frozenset[str]
    databases: frozenset[str]
    tablespaces: frozenset[str]
    settings: frozenset[tuple[str, str, str, str]]  # (database or "", role or "", name, value)
    memberships: frozenset[tuple[str, str]]  # (role, member)
    attributes: frozenset[tuple[Any, ...]]  # each role's attributes, by name
    system_settings: frozenset[tuple[str, str]]  # what ALTER SYSTEM wrote (pg_file_settings, when readable)

    @classmethod
    def read(cls, conn: psycopg.Connection[Any]) -> ClusterState:
        def rows(query: str) -> list[tuple[Any, ...]]:
            return conn.execute(query).fetchall()

        settings = set()
        for database, role, config in rows(
            "SELECT coalesce(d.datname, ''), coalesce(r.rolname, ''), s.setconfig FROM pg_db_role_setting s"
            " LEFT JOIN pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_roles r ON r.oid = s.setrole"
        ):
            for entry in config or ():
                name, _, value = entry.partition("=")
                settings.add((database, role, name, value))
        try:
            with conn.transaction():
                system = rows(
                    "SELECT name, coalesce(setting, '') FROM pg_file_settings"
                    " WHERE sourcefile LIKE '%postgresql.auto.conf'"
                )
        except psycopg.Error:  # only superusers (and pg_read_all_settings) may read it
            system = []
        return cls(
            frozenset(r for (r,) in rows("SELECT rolname FROM pg_roles")),
            frozenset(d for (d,) in rows("SELECT datname FROM pg_database")),
            frozenset(t for (t,) in rows("SELECT spcname FROM pg_tablespace")),
            frozenset(settings),
            frozenset(
                (role, member)
                for role, member in rows(
                    "SELECT r.rolname, m.rolname FROM pg_auth_members a"
                    " JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member"
                )
            ),
            frozenset(rows(f"SELECT rolname, {_ROLE_ATTRIBUTES} FROM pg_roles")),
            frozenset(tuple(row) for row in system),
        )

    def restore(self, conn: psycopg.Connection[Any], keep: frozenset[str] = frozenset()) -> list[str]:
        """Undo on the server what changed since this state was read (`keep`: databases to leave alone,
        e.g. the test database, dropped by its owner); returns what could not be undone, in words."""
        now = ClusterState.read(conn)
        left: list[str] = []

        def run(statement: sql.Composed, what: str, quiet: bool = False) -> bool:
            try:
                conn.execute(statement)
            except psycopg.Error as err:
                if not quiet:
                    left.append(f"{what}: {str(err).strip().splitlines()[0]}")
                return False
            return True

        for database in sorted(now.databases - self.databases - keep):
            run(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)),
                f"database {database}",
            )
        for tablespace in sorted(now.tablespaces - self.tablespaces):
            run(sql.SQL("DROP TABLESPACE IF EXISTS {}").format(sql.Identifier(tablespace)), f"tablespace {tablespace}")
        new_roles = sorted(now.roles - self.roles)
        if new_roles:
            names = sql.SQL(", ").join(sql.Identifier(r) for r in new_roles)
            run(sql.SQL("DROP OWNED BY {}").format(names), f"what roles {', '.join(new_roles)} own")
            for role in new_roles:
                run(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)), f"role {role}")
        for role, member in sorted(now.memberships - self.memberships):
            if role in self.roles and member in self.roles:
                revoke = sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(role), sql.Identifier(member))
                run(revoke, f"membership of {member} in {role}")
        self._restore_settings(now, run)
        changed = {row[0] for row in self.attributes ^ now.attributes} & self.roles & now.roles
        left.extend(f"role {role}: its attributes changed (ALTER ROLE … WITH)" for role in sorted(changed))
        left.extend(f"ALTER SYSTEM SET {name}" for name, _ in sorted(now.system_settings - self.system_settings))
        return left

    def _restore_settings(self, now: ClusterState, run: Callable[..., bool]) -> None:
        """Put `ALTER ROLE/DATABASE … SET` back: a setting that appeared is reset, one that changed or went
        is set to its old value — through this session and `SET … FROM CURRENT` where the session may
        set it, so that list values (search_path) come back exactly; else as a string."""
        old = {
            (d, r, n): v
            for d, r, n, v in self.settings
            if (r == "" or r in now.roles) and (d == "" or d in now.databases)
        }
        new = {(d, r, n): v for d, r, n, v in now.settings}
        for database, role, name in sorted(new.keys() - old.keys()):
            if (role == "" or role in self.roles) and (database == "" or database in self.databases):
                run(_alter(database, role, sql.SQL("RESET {}").format(sql.Identifier(name))), f"{name} of {role}")
        for (database, role, name), value in sorted(old.items()):
            if new.get((database, role, name)) == value:
                continue
            what = f"setting {name} of {role or database}"
            current = sql.SQL("SELECT set_config({}, {}, false)").format(sql.Literal(name), sql.Literal(value))
            if run(current, what, quiet=True):
                run(_alter(database, role, sql.SQL("SET {} FROM CURRENT").format(sql.Identifier(name))), what)
                run(sql.SQL("RESET {}").format(sql.Identifier(name)), what, quiet=True)
            else:
                literal = sql.SQL("SET {} = {}").format(sql.Identifier(name), sql.Literal(value))
                run(_alter(database, role, literal), what)


def _alter(database: str, role: str, action: sql.Composed) -> sql.Composed:
    if role and database:
        return sql.SQL("ALTER ROLE {} IN DATABASE {} {}").format(sql.Identifier(role), sql.Identifier(database), action)
    if role:
        return sql.SQL("ALTER ROLE {} {}").format(sql.Identifier(role), action)
    if database:
        return sql.SQL("ALTER DATABASE {} {}").format(sql.Identifier(database), action)
    return sql.SQL("ALTER ROLE ALL {}").format(action)
