"""Helpers the commands share: colour detection, and compiling with diagnostics shown."""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from compiler.pipeline import Compiled

class ConfigDir(click.Path):
    """A config folder; a file given instead (org.yaml, say) gets a message that says so."""

    def __init__(self) -> None:
        super().__init__(file_okay=False, dir_okay=True, path_type=str)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if os.path.isfile(value):
            self.fail(f"{value} is a file: give the config folder, the one that holds org.yaml", param, ctx)
        return super().convert(value, param, ctx)


CONFIG_DIR = ConfigDir()


def use_colour(stream: IO[str]) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def compile_or_exit(config_dir: str, *, show_warnings: bool = True, allow_errors: bool = False) -> Compiled:
    """Compiles; on errors prints the diagnostics to stderr and exits 1. With `allow_errors`,
    only when the config could not be assembled at all (an editing command that may fix the
    errors needs the config, not a clean one)."""
    from compiler import report
    from compiler.pipeline import compile_config

    compiled = compile_config(config_dir)
    shown = compiled.diagnostics if show_warnings or not compiled.ok else []
    if compiled.config is None or (not compiled.ok and not allow_errors):
        click.echo(report.text(shown, use_colour(sys.stderr)), err=True, nl=False)
        sys.exit(1)
    return compiled
