"""The ``mlready`` command: global options, sub-commands, and the one top-level error handler."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from mlready import __version__
from mlready.cli import checklist as checklist_cmd
from mlready.cli import drift as drift_cmd
from mlready.cli import init as init_cmd
from mlready.cli import project_tests as test_cmd
from mlready.cli import register as register_cmd
from mlready.cli import run as run_cmd
from mlready.cli import runs as runs_cmd
from mlready.cli import serve as serve_cmd
from mlready.cli import serve_http as serve_http_cmd
from mlready.cli import site as site_cmd
from mlready.cli import spec as spec_cmd
from mlready.cli import train as train_cmd
from mlready.cli import validate as validate_cmd
from mlready.cli.help import App
from mlready.cli.state import STATE, configure_logging, err
from mlready.errors import MlreadyError

app = App(
    name="mlready",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mlready {__version__}")
        raise typer.Exit(0)


@app.callback()
def _global_options(
    spec: Annotated[
        Path | None,
        typer.Option(
            "--spec", "-s", help="The project spec. \\[default: ./mlready.yaml]", show_default=False
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="Print nothing but errors, and a failed check's verdict and failures (on "
            "stderr); a command that answers a question still prints its answer.",
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show the run log on the terminal.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Every command: one JSON document on stdout, messages on stderr."
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Take a machine-learning model from a notebook to a product, driven by mlready.yaml.

    Exit codes: 0 passed, 1 a check failed, 2 usage error, 3 spec missing or invalid,
    4 data or artifact unusable, 5 internal error, 130 interrupted.
    """
    STATE.spec, STATE.quiet, STATE.verbose, STATE.debug = spec, quiet, verbose, debug
    configure_logging(verbose and not quiet)


app.command("init", help=init_cmd.__doc__)(init_cmd.init)
app.command("test")(test_cmd.project_tests)
app.command("validate-data")(validate_cmd.validate_data)
app.command("train")(train_cmd.train)
app.command("register")(register_cmd.register)
app.add_typer(register_cmd.app, name="registry")
app.command("serve-batch")(serve_cmd.serve_batch)
app.command("serve")(serve_http_cmd.serve)
app.command("check-drift")(drift_cmd.check_drift)
app.command("checklist-report")(checklist_cmd.checklist_report)
app.command("run")(run_cmd.run)
app.command("site")(site_cmd.site)
app.add_typer(spec_cmd.app, name="spec")
app.add_typer(runs_cmd.app, name="runs")


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run the CLI; turn every error into a one-line message and an exit code from the table."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    STATE.json = "--json" in args  # known before parsing, so even a usage error answers in JSON
    stdout = sys.stdout
    watched = _Watched(stdout) if STATE.json else None
    if watched is not None:
        sys.stdout = watched  # type: ignore[assignment]
    try:
        app(args=args, prog_name="mlready")
    except SystemExit as exc:
        if exc.code == 130:  # Typer turns Ctrl-C into a silent exit 130
            _print_error("interrupted")
        if watched is not None and not watched.written and exc.code not in (0, None):
            # Typer's own usage errors print on stderr only: scripts still get their document
            code = exc.code if isinstance(exc.code, int) else 2
            what = "interrupted" if code == 130 else "usage error (the message is on stderr)"
            _json_error(what, code)
        raise
    except MlreadyError as exc:
        if debug:
            traceback.print_exc()
        _print_error(str(exc))
        _json_error(str(exc), exc.exit_code)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _print_error("interrupted")
        sys.exit(130)
    except Exception as exc:
        if debug:
            traceback.print_exc()
        known = _os_cause(exc) or _damaged_database(exc)
        if known is not None:  # a full disk or a read-only folder is no bug: exit 4, one line
            _print_error(known)
            _json_error(known, 4)
            sys.exit(4)
        message = (
            f"unexpected internal error: {type(exc).__name__}: {exc}. "
            "Rerun with --debug to see the traceback, and report it."
        )
        _print_error(message)
        _json_error(message, 5)
        sys.exit(5)
    finally:
        if watched is not None:
            sys.stdout = stdout
    sys.exit(0)


def _os_cause(exc: BaseException) -> str | None:
    """The one-line message of an OSError the machine caused (full disk, read-only folder),
    raised itself or as the cause of another error (a writer library wrapping it)."""
    from mlready.io import os_error_message

    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        message = os_error_message(seen)
        if message is not None:
            return message
        seen = seen.__cause__ or seen.__context__
    return None


def _damaged_database(exc: BaseException) -> str | None:
    """One line for a SQLite file found damaged while it was read (the registry's database,
    truncated or overwritten), raised itself or as the cause of another error."""
    import sqlite3

    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        original = getattr(seen, "orig", None)  # SQLAlchemy's wrapper names the driver's error
        for error in (seen, original):
            text = str(error).splitlines()[0].lower() if error is not None else ""
            damaged = ("malformed", "not a database", "corrupt")
            if isinstance(error, sqlite3.DatabaseError) and any(w in text for w in damaged):
                return (
                    f"the registry's SQLite database is damaged ({text}): restore registry.db "
                    "from a backup, or move it aside to start an empty registry (the artifact "
                    "store keeps the models)"
                )
        seen = seen.__cause__ or seen.__context__
    return None


class _Watched:
    """stdout, noting whether anything was written to it."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.written = False

    def write(self, text: str) -> int:
        self.written = self.written or bool(text)
        return int(self._stream.write(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _json_error(message: str, code: int) -> None:
    """With --json, scripts get the error as the one JSON document on stdout too."""
    if STATE.json:
        import json

        sys.stdout.write(json.dumps({"error": message, "exit_code": code}) + "\n")


def _print_error(message: str) -> None:
    from mlready.cli.state import literal

    err().print(f"[bold red]error:[/] {literal(message)}")
