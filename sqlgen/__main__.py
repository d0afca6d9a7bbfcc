"""`python -m sqlgen` and the `sqlgen` command.

Nothing but the standard library's `signal` is imported before the guard: Ctrl-C, SIGTERM or
SIGHUP while sqlgen itself loads is a clean exit too (130, 143, 129), never a traceback.
"""

import signal
import sys


def run() -> None:
    """The console entry point: `sqlgen …`."""
    try:
        from sqlgen.interrupts import install

        install()
        from sqlgen.cli import main

        code = main()
    except KeyboardInterrupt as interrupt:  # only while loading: main() reports its own
        _quiet()
        code = 128 + getattr(interrupt, "signum", signal.SIGINT)  # 130 for Ctrl-C, as interrupts.exit_code
        try:
            print("sqlgen: interrupted; nothing was written", file=sys.stderr)
        except OSError:  # the terminal is gone (SIGHUP)
            pass
    _quiet()  # a signal while the interpreter shuts down changes nothing any more
    raise SystemExit(code)


def _quiet() -> None:
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)


if __name__ == "__main__":
    run()
