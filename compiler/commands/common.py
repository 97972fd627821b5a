"""Helpers the commands share: colour detection, and compiling with diagnostics shown."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from compiler.diagnostics import Diagnostic
    from compiler.errors import Refused
    from compiler.pipeline import Compiled

F = TypeVar("F", bound=Callable[..., Any])


class FiniteFloatRange(click.FloatRange):
    """A FloatRange that also refuses `nan`, which every comparison lets through (YAML-012 is
    the same rule for files)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import math

        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class ConfigDir(click.Path):
    """A config folder; a file given instead (org.yaml, say) gets a message that says so."""

    def __init__(self) -> None:
        super().__init__(file_okay=False, dir_okay=True, path_type=str)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if os.path.isfile(value):
            self.fail(f"{value} is a file: give the config folder, the one that holds org.yaml", param, ctx)
        return super().convert(value, param, ctx)


CONFIG_DIR = ConfigDir()


def config_dir_arguments(function: F) -> F:
    """The config folder, the same way for every command: `-C DIR` (as git and make take it),
    or as the first argument where a command always took it so; the current folder by default."""

    @functools.wraps(function)
    def wrapper(*args: Any, config_dir: str | None = None, directory: str | None = None, **kwargs: Any) -> Any:
        if config_dir and directory and os.path.normpath(config_dir) != os.path.normpath(directory):
            raise click.UsageError(f"two config folders: {config_dir} and -C {directory}; give one")
        return function(*args, config_dir=config_dir or directory or ".", **kwargs)

    wrapper = click.argument("config_dir", required=False, type=CONFIG_DIR)(wrapper)
    option = click.option(
        "-C", "--directory", "directory", type=CONFIG_DIR, help="The config folder (default: the current folder)."
    )
    return option(wrapper)  # type: ignore[return-value]


def quiet_option(function: F) -> F:
    return click.option(
        "-q", "--quiet", is_flag=True,
        help="Leave out info findings (notes such as GW-009; warnings and errors stay), and the summary when nothing is left.",
    )(function)


def worth_showing(diagnostics: list[Diagnostic], quiet: bool) -> list[Diagnostic]:
    from compiler.diagnostics import Severity

    return [d for d in diagnostics if d.severity is not Severity.INFO] if quiet else diagnostics


def diagnostics_text(diagnostics: list[Diagnostic], quiet: bool, stream: IO[str]) -> str:
    """The text report; with `quiet`, without info findings and empty when nothing is left."""
    from compiler import report

    shown = worth_showing(diagnostics, quiet)
    return report.text(shown, use_colour(stream)) if shown or not quiet else ""


def use_colour(stream: IO[str]) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def compile_or_exit(config_dir: str, *, show_warnings: bool = True, allow_errors: bool = False, quiet: bool = False) -> Compiled:
    """Compiles; on errors prints the diagnostics to stderr and exits 1. With `allow_errors`,
    only when the config could not be assembled at all (an editing command that may fix the
    errors needs the config, not a clean one)."""
    from compiler.pipeline import compile_config

    compiled = compile_config(config_dir)
    shown = compiled.diagnostics if show_warnings or not compiled.ok else []
    if compiled.config is None or (not compiled.ok and not allow_errors):
        click.echo(diagnostics_text(shown, quiet, sys.stderr), err=True, nl=False)
        sys.exit(1)
    return compiled


def show_refusal(refused: Refused) -> NoReturn:
    """The library refused (exit 1): the findings that say why, in the flags of the command the
    user just ran rather than in YAML keys, then the message and the hint."""
    if refused.diagnostics:
        import dataclasses

        from compiler import report

        spoken = [dataclasses.replace(d, hint=d.flag_hint) if d.flag_hint else d for d in refused.diagnostics]
        click.echo(report.text(spoken, use_colour(sys.stderr)), err=True, nl=False)
    click.echo(f"hks: {refused.message}", err=True)
    if refused.hint:
        click.echo(f"hint: {refused.hint}", err=True)
    sys.exit(1)
