from sqlgen.cli import run

run()
