"""The ``custseg`` command line: a thin layer that parses options and calls the core.

Domain errors (:class:`custseg.exceptions.CustsegError`) become one line on stderr
and exit code 2; anything unexpected is exit code 1. ``--verbose`` shows tracebacks.
Warnings, custseg's and those of libraries, are one ``warning:`` line each, and
``--quiet`` silences them all.
Exit codes: 0 success, 1 internal error, 2 user error, 3 drift threshold reached
(``custseg drift --fail-on``, raised as ``typer.Exit(3)`` after its files are written).
Each command lives in its own module and imports heavy libraries only when it runs,
so that ``custseg --help`` stays fast.
"""

from __future__ import annotations

import gc
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

import typer

from .._version import __version__
from ..exceptions import CustsegError
from ._common import STATE, err_console, masked, use_secrets_of, warnings_as_lines

__all__ = ["app", "main", "run"]

app = typer.Typer(
    name="custseg",
    help=(
        "Segment customers by behaviour: extract data with SQL, fit explained "
        "K-means segments, report them and score new customers.\n\n"
        "Start with: custseg demo"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"custseg {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Show the version and exit.",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show tracebacks of errors."),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Print only errors and results (no progress, no warnings)."
    ),
) -> None:
    """Global options."""
    STATE.verbose = verbose
    STATE.quiet = quiet


def _register() -> None:
    # Importing a command module registers its command on ``app``; the modules
    # themselves import nothing heavy at import time.
    import importlib

    for name in (
        "extract",
        "features",
        "fit",
        "demo",
        "report",
        "score",
        "serve",
        "export_sql",
        "drift",
        "migrate",
    ):
        importlib.import_module(f"{__name__}.{name}")


_register()


_GLOBAL_FLAGS = ("--verbose", "-v", "--quiet", "-q")


def _hoist_global_flags(command: Any, args: list[str]) -> list[str]:
    """Move ``--quiet``/``--verbose`` given after the command name in front of it.

    ``custseg fit --quiet ...`` then means ``custseg --quiet fit ...``. Only whole
    arguments are moved, never the value of an option (``--sql -q`` keeps ``-q`` as
    the query), nothing after ``--``, and not a flag the command itself defines.
    """
    # Typer ships its own copy of click: the command is read by its attributes.
    commands = getattr(command, "commands", None) or {}
    position = next((i for i, a in enumerate(args) if not a.startswith("-")), None)
    if position is None or args[position] not in commands:
        return args
    params = commands[args[position]].params
    own = {name for p in params for name in getattr(p, "opts", [])}
    takes_value = {
        name
        for p in params
        if getattr(p, "param_type_name", "") == "option"
        and not getattr(p, "is_flag", False)
        and not getattr(p, "count", False)
        for name in p.opts
    }
    head, tail, moved = args[: position + 1], [], []
    rest = args[position + 1 :]
    i = 0
    while i < len(rest):
        token = rest[i]
        if token == "--":
            tail += rest[i:]
            break
        if token in takes_value:
            tail += rest[i : i + 2]
            i += 2
            continue
        if token in _GLOBAL_FLAGS and token not in own:
            moved.append(token)
        else:
            tail.append(token)
        i += 1
    return [*head[:position], *moved, *head[position:], *tail]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code.

    0 success, 1 internal error, 2 user error, 3 drift threshold reached (``--fail-on``).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    from .._utils.io import remove_temporaries_on_signals

    # SIGTERM removes the temporary files of the running command before it exits.
    remove_temporaries_on_signals()
    if "--verbose" in args or "-v" in args:
        STATE.verbose = True
    command = typer.main.get_command(app)
    args = _hoist_global_flags(command, args)
    use_secrets_of(args)
    try:
        # Library warnings become one `warning:` line each (none with --quiet).
        with warnings_as_lines():
            result = command.main(args=args, prog_name="custseg", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        err_console.print("Aborted.", highlight=False)
        return 1
    except typer.TyperException as exc:
        # Usage errors (missing or unknown option, bad value) are user errors: exit 2.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err_console.print(f"error: {exc.format_message()}", highlight=False, markup=False)
        return int(getattr(exc, "exit_code", 2) or 2)
    except CustsegError as exc:
        if STATE.verbose:
            err_console.print(masked(traceback.format_exc()), highlight=False, markup=False)
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        message = masked(message)
        err_console.print(f"error: {message}", highlight=False, markup=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        err_console.print("Interrupted.", highlight=False)
        return 130
    except OSError as exc:
        from ._errors import user_os_error

        fixable = user_os_error(exc)
        if fixable is None:
            return _internal_error(exc)
        if STATE.verbose:
            err_console.print(masked(traceback.format_exc()), highlight=False, markup=False)
        fixable = masked(fixable)
        err_console.print(f"error: {fixable}", highlight=False, markup=False, soft_wrap=True)
        return 2
    except Exception as exc:  # noqa: BLE001 - the last line of defence of the CLI
        return _internal_error(exc)
    return result if isinstance(result, int) else 0


def run() -> NoReturn:
    """Entry point of the ``custseg`` program: run the command line, then exit."""
    code = main()
    # The process ends here, and whatever is alive now would stay alive until then:
    # frozen, it is spared the interpreter's last garbage collection (60 ms, a sixth
    # of a short command, with numpy, pyarrow, typer and pydantic loaded).
    gc.freeze()
    sys.exit(code)


def _internal_error(exc: BaseException) -> int:
    if STATE.verbose:
        err_console.print(masked(traceback.format_exc()), highlight=False, markup=False)
    err_console.print(
        masked(f"internal error: {type(exc).__name__}: {exc}")
        + " (run with --verbose for details and report it)",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    return 1
