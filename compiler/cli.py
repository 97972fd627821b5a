"""The `hks` command line: click only. Commands load on first use, so `hks --help` stays fast.

Exit codes: 0 clean (warnings allowed), 1 the config has errors, 2 usage or I/O error,
3 an internal error (our bug; the traceback only with --debug).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from typing import Any

import click

from compiler import __version__

# name → (module in compiler.commands, one-line help); the table is the registry.
COMMANDS: dict[str, tuple[str, str]] = {
    "diff": ("diff", "Show what a change does to each workspace's settings and to the rendered resources."),
    "cost": ("cost", "Estimate the monthly LLM spend, or its change against a Git revision."),
    "render": ("render", "Render the Kubernetes manifests Argo CD deploys."),
    "policy": ("policy", "List, show and test the compliance rules validate enforces."),
    "init": ("init", "Create a new config repository that validates and renders as it is."),
    "explain": ("explain", "Show each workspace's effective settings and where every value came from."),
    "schema": ("schema", "Print the JSON Schema of org.yaml or of a workspace file."),
    "validate": ("validate", "Check a config repository and report every problem."),
    "llm": ("llm", "Enable providers and install or remove self-hosted models (edits org.yaml)."),
    "org": ("org", "Edit the organisation's default LLM settings (org set-llm)."),
    "workspace": ("workspace", "Edit a workspace's LLM overrides (workspace set-llm)."),
    "models": ("models", "List the models each provider serves today, with limits, prices and retirement."),
    "logs": ("logs", "Show the logs of what hks deployed (runs kubectl logs with its selectors)."),
    "secret": ("secret", "Store a secret for the cluster: sealed, or as an external-secrets reference."),
}

EPILOG = """\b
Examples:
  hks validate examples/acme
  hks explain examples/acme clinical --key temperature
  hks validate --format sarif > hks.sarif
  hks llm enable --provider ollama && hks llm install llama3:8b
  hks workspace set-llm production --model gpt-4 --max-tokens 8192
  hks diff --base main --format markdown
  hks init llm-config --provider openai
"""


# Allocations between two collections of the youngest generation (CPython's default is 700).
# hks builds hundreds of thousands of objects that live to the end (every node of every file,
# with its position) and makes little cyclic garbage: at 1,000 workspaces, collections took
# 92 ms of validate and 173 ms of render at the default, 48 and 65 ms at 10,000, with the same
# peak memory (80 MB for render).
GC_YOUNG = 10_000


class LazyGroup(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        import gc

        from compiler.safeout import redacted_output

        threshold = gc.get_threshold()
        gc.set_threshold(GC_YOUNG, *threshold[1:])
        try:
            with redacted_output():  # every message, report and usage error, whoever prints it
                return super().main(*args, **kwargs)
        finally:
            gc.set_threshold(*threshold)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(f"compiler.commands.{COMMANDS[cmd_name][0]}")
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            from compiler.suggest import did_you_mean

            hint = did_you_mean(name, COMMANDS)
            ctx.fail(f"no such command '{name}'." + (f" {hint[0].upper()}{hint[1:]}" if hint else ""))
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a full disk or a closed pipe shows here, not at interpreter exit
            return result
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("hks: interrupted", err=True)
            sys.exit(130)
        except OSError as exc:  # an I/O error hks did not expect: writing stdout, mostly
            _io_failed(exc)
        except Exception as exc:  # our bug: one short line, the traceback only with --debug
            from compiler.errors import InputError, Refused, RenderBug

            if isinstance(exc, Refused):  # the library's refusal: why, then what to do instead
                from compiler.commands.common import show_refusal

                show_refusal(exc)
            if isinstance(exc, RenderBug):
                click.echo(f"hks: internal error: {exc}", err=True)
                sys.exit(3)
            if isinstance(exc, InputError):
                click.echo(f"hks: {exc}", err=True)
                sys.exit(2)
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"hks: internal error: {type(exc).__name__}: {exc}", err=True)
            click.echo("hks: this is a bug in hks; run again with --debug for the traceback", err=True)
            sys.exit(3)


class _ClosedStream:
    """Stands in for a standard stream the caller closed (Python then sets it to None): using it
    is an I/O error, exit 2, as a full disk is; a command that never uses it runs as usual."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.buffer = self

    def _closed(self, *_: Any) -> Any:
        import errno

        raise OSError(errno.EBADF, f"standard {self.name} is closed")

    read = readline = write = fileno = _closed

    def isatty(self) -> bool:
        return False

    def flush(self) -> None:
        pass


def _stand_in_for_closed_streams() -> None:
    if sys.stdin is None:
        sys.stdin = _ClosedStream("input")
    if sys.stdout is None:
        sys.stdout = _ClosedStream("output")


def _io_failed(exc: OSError) -> None:
    import errno
    import os

    with contextlib.suppress(OSError):  # nothing more reaches stdout, not even at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if exc.errno == errno.EPIPE:  # the reader went away (hks ... | head): quiet, as git is
        sys.exit(141)
    where = f": {exc.filename}" if exc.filename else ""
    click.echo(f"hks: I/O error{where}: {exc.strerror or exc}", err=True)
    sys.exit(2)


@click.group(cls=LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hks")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """hks compiles an organisation's LLM configuration (org.yaml and workspaces/*.yaml) into
    the Kubernetes manifests Argo CD deploys, after checking it against schemas and policies."""
    ctx.obj = {"debug": debug}
    _stand_in_for_closed_streams()
