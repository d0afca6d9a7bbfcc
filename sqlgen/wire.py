"""Talking to the server in libpq pipeline mode without ever blocking, and without waiting forever.

A pipeline sends many statements before reading any result. On a blocking connection the two
sides can then wait on each other: the client stops reading while it writes, the server stops
reading while its answers are not read, and once both socket buffers are full neither moves.
Here the connection is non-blocking and one loop does both: it queues more only when libpq has
sent everything queued, reads whatever has arrived, and waits on the socket for either, never
longer than `idle_seconds` without any progress.
"""

from __future__ import annotations

import selectors
from collections.abc import Callable, Sequence

import psycopg
from psycopg import pq

from sqlgen.errors import ToolError

Group = Callable[[pq.abc.PGconn], None]  # queues one group's steps; `pipelined` adds its sync point
_AHEAD = 1000  # groups sent before the oldest one's results are read
_LONGEST_SELECT = 20 * 86400.0  # seconds: the selectors' limit is about 24 days


def pipelined(
    pgconn: pq.abc.PGconn,
    groups: Sequence[Group],
    idle_seconds: float,
    on_sync: Callable[[int, list[pq.abc.PGresult]], None],
) -> None:
    """Send `groups`, each followed by a sync point, and call `on_sync(index, results)` as each one's
    results (one per step, up to its sync point's) are in. ToolError when the server gives no sign of
    life for `idle_seconds`; the connection is then unusable."""
    sent = received = 0
    results: list[pq.abc.PGresult] = []
    pgconn.nonblocking = 1
    pgconn.enter_pipeline_mode()
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(pgconn.socket, selectors.EVENT_READ)
            while received < len(groups):
                unsent = pgconn.flush()  # 0: libpq's output buffer is empty
                while not unsent and sent < len(groups) and sent - received < _AHEAD:
                    groups[sent](pgconn)
                    pgconn.pipeline_sync()
                    sent += 1
                    unsent = pgconn.flush()
                events = selectors.EVENT_READ | (selectors.EVENT_WRITE if unsent else 0)
                selector.modify(pgconn.socket, events)
                if not selector.select(min(idle_seconds, _LONGEST_SELECT)):
                    raise _silent(idle_seconds)
                pgconn.consume_input()
                while received < len(groups) and not pgconn.is_busy():
                    result = pgconn.get_result()
                    if result is None:  # the end of one step's results
                        if received == sent:  # and nothing is in flight: send more
                            break
                        continue
                    if result.status == pq.ExecStatus.PIPELINE_SYNC:
                        on_sync(received, results)
                        results = []
                        received += 1
                    else:
                        results.append(result)
    except psycopg.OperationalError as err:  # the connection broke
        raise ToolError(f"lost the database connection: {str(err).strip() or type(err).__name__}") from None
    finally:
        if pgconn.status == pq.ConnStatus.OK and received == sent:  # else the caller closes the connection
            pgconn.exit_pipeline_mode()
        if pgconn.status == pq.ConnStatus.OK:
            pgconn.nonblocking = 0


def run_statements(pgconn: pq.abc.PGconn, statements: Sequence[str], idle_seconds: float) -> list[pq.abc.PGresult]:
    """Run `statements` (no parameters, one result each) in one round trip; their results, in order."""

    def send(conn: pq.abc.PGconn) -> None:
        for statement in statements:
            conn.send_query_params(statement.encode(), None)

    answers: list[list[pq.abc.PGresult]] = []
    pipelined(pgconn, [send], idle_seconds, lambda _, results: answers.append(results))
    return answers[0]


def _silent(idle_seconds: float) -> ToolError:
    return ToolError(
        f"the database sent nothing for {idle_seconds:g} seconds while sqlgen waited for its answers",
        hint="the server or a connection pooler in front of it is stuck or overloaded;"
        " describe_timeout in [tool.sqlgen] sets how long any one statement may take",
    )
