"""The ``outsidein`` command line: thin commands over the model, scenarios and experiments.

Each command lives in its own module and registers itself here with one line. The CLI has no
rules of its own: it builds validated inputs and calls the library. A user's mistake (a bad
value, an unknown option, a broken file) is one line on stderr and exit code 2, never a
traceback, and nothing is written.

Every command module loads on every call (:func:`_load_commands`), so a command imports its
heavy library (the experiments with pandas and SciPy, the model with Mesa, the app's server)
inside its function, each such import marked ``# deferred:``; ``outsidein scenarios`` does
not pay for Mesa.
"""

from __future__ import annotations

import sys

# Typer 0.29 ships its own copy of click; its exceptions are what a command line raises.
from typer import Abort, Exit
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from simulation.cli.root import app, error_lines, imports_done, version_line
from simulation.errors import OutsideInError


def _load_commands() -> None:
    # Each command's module registers it on import; they load only when a command runs
    # (deferred: ``--version`` alone needs none of them, nor the pandas and pydantic they load).
    from simulation.cli import compare as _compare  # noqa: F401  (registers `compare`)
    from simulation.cli import dock as _dock  # noqa: F401  (registers `dock`)
    from simulation.cli import patterns as _patterns  # noqa: F401  (registers `patterns`)
    from simulation.cli import robust as _robust  # noqa: F401  (registers `robust`)
    from simulation.cli import run as _run  # noqa: F401  (registers `run`)
    from simulation.cli import scenarios as _scenarios  # noqa: F401  (`scenarios`, `validate`)
    from simulation.cli import serve as _serve  # noqa: F401  (registers `app`)
    from simulation.cli import sweep as _sweep  # noqa: F401  (registers `sweep`, `analyze`)
    from simulation.cli import workshop as _workshop  # noqa: F401  (registers `workshop`)


USAGE_EXIT = 2
RUNTIME_EXIT = 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``outsidein`` console script; returns the exit code."""
    if (sys.argv[1:] if argv is None else argv) == ["--version"]:
        print(version_line())
        return 0
    _load_commands()
    imports_done()
    try:
        result = app(args=argv, prog_name="outsidein", standalone_mode=False)
    except NoArgsIsHelpError as exc:
        print(exc.ctx.get_help() if exc.ctx else exc.format_message())
        return 0
    except UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "outsidein"
        print(f"error: {exc.format_message()} (see '{command} --help')", file=sys.stderr)
        return USAGE_EXIT
    except (OutsideInError, ClickException) as exc:
        message = exc.format_message() if isinstance(exc, ClickException) else str(exc)
        print(error_lines(message), file=sys.stderr)
        return exc.exit_code if isinstance(exc, OutsideInError) else USAGE_EXIT
    except OSError as exc:  # a failure while writing (a full disk): one line, exit 1
        print(f"error: {exc.filename or 'output'}: {exc.strerror or exc}", file=sys.stderr)
        return RUNTIME_EXIT
    except Abort:
        print("aborted", file=sys.stderr)
        return 130
    except Exit as exc:
        return int(exc.exit_code)
    return int(result) if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
