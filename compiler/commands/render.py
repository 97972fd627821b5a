from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from compiler.commands.common import compile_or_exit, config_dir_arguments, diagnostics_text, quiet_option

if TYPE_CHECKING:
    from compiler.pipeline import Compiled


@click.command(
    epilog="""\b
Exit status: 0 written (or current, with --check), 1 the config has errors (or, with --check,
OUT_DIR is stale), 2 usage or I/O error, 3 an internal error of hks.
\b
Examples:
  hks render examples/acme -o rendered
  hks render                                       # into cluster.path (default rendered/) of this config
  hks render examples/acme -o rendered --check      # in CI: is the committed folder current?
  hks render --check                               # the same, for the folder cluster.path names
  hks render --stdout                              # an Argo CD plugin's generate command"""
)
@config_dir_arguments
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write (default: CONFIG_DIR/cluster.path, rendered/ unless set).",
)
@click.option("--stdout", "to_stdout", is_flag=True, help="Print one multi-document YAML stream instead.")
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 with a diff if OUT_DIR (default: CONFIG_DIR/cluster.path) is not current, "
    "or if Git does not track some of its files.",
)
@quiet_option
@click.option(
    "--no-findings",
    is_flag=True,
    help="Print no findings (a hook or CI step after hks validate, which printed them); a config with errors "
    "gets one line.",
)
def command(config_dir: str, out_dir: Path | None, to_stdout: bool, check: bool, quiet: bool, no_findings: bool) -> None:
    """Render the Kubernetes manifests Argo CD deploys.

    Validates CONFIG_DIR first (a config with errors renders nothing), then writes one resource
    per file and a kustomization.yaml to OUT_DIR, replacing it whole and atomically. OUT_DIR must
    be empty or hold only what hks wrote there (no .git, README or link), and be no link and
    none of the config's own folders; --check reports anything else it holds, never reading
    through a link.
    """
    from compiler.errors import RenderBug
    from compiler.pipeline import for_render, render_checked, rendered_files
    from compiler.write import refuse_config_folders, write_tree

    if to_stdout and (out_dir is not None or check):
        raise click.UsageError("--stdout prints the stream: give no -o OUT_DIR or --check with it")
    compiled = _compiled_quietly(config_dir) if no_findings else compile_or_exit(config_dir, quiet=quiet)
    if not to_stdout and out_dir is None:
        assert compiled.config is not None
        out_dir = Path(config_dir) / compiled.config.org.cluster.path
        _inside_config(out_dir, config_dir)
    if compiled.diagnostics and not no_findings:
        click.echo(diagnostics_text(compiled.diagnostics, quiet, sys.stderr), err=True, nl=False)
    if to_stdout:
        stream = render_checked(compiled).stream
        if not stream.strip():  # with prune, Argo CD would delete everything: never a success
            raise RenderBug("the rendered stream is empty")
        click.echo(stream, nl=False)
        return
    assert out_dir is not None
    if check:
        _check(config_dir, out_dir, render_checked(compiled).files)
        return
    refuse_config_folders(out_dir, Path(config_dir))
    compiled = for_render(compiled)  # let the parsed files go before the largest step
    written = write_tree(out_dir, rendered_files(compiled))  # each file written as it is rendered
    click.echo(f"wrote {written} files to {out_dir}", err=True)


def _inside_config(out_dir: Path, config_dir: str) -> None:
    """cluster.path is a folder of the repository: a link on the way must not lead elsewhere."""
    from compiler.errors import InputError

    try:
        inside = out_dir.resolve().is_relative_to(Path(config_dir).resolve())
    except (OSError, RuntimeError):  # a looping link
        inside = False
    if not inside:
        raise InputError(f"{out_dir}: cluster.path leads out of the config folder through a link; "
                         "hks never reads or writes through it (nothing was changed)")


def _stale(config_dir: str, out_dir: Path) -> str:
    import os

    render = f"hks render -C {config_dir} -o {out_dir}"
    if os.environ.get("PRE_COMMIT"):  # a hook sees only what is staged: pre-commit set the rest aside
        return (f"{out_dir} is not current in what this commit holds: if you ran `hks render` already, "
                f"`git add {out_dir}`; if not, run `{render}`, then `git add {out_dir}`")
    from compiler.tools.untracked import in_git

    if not in_git(out_dir):
        return f"{out_dir} is not current: run `{render}`"
    return f"{out_dir} is not current: run `{render}`, then `git add {out_dir}`"


def _compiled_quietly(config_dir: str) -> Compiled:
    """The compiled config, or one line and exit 1: the same errors printed by two hooks of one
    commit read as two problems."""
    from compiler.pipeline import compile_config

    compiled = compile_config(config_dir)
    errors = sum(1 for d in compiled.diagnostics if d.is_error)
    if compiled.config is None or errors:
        click.echo(f"hks: not rendered: the config has {max(errors, 1)} error(s); `hks validate` lists them", err=True)
        sys.exit(1)
    return compiled


def _check(config_dir: str, out_dir: Path, files: dict[str, str]) -> None:
    from compiler.tools.untracked import untracked
    from compiler.write import diff_tree, foreign_entries

    if out_dir.is_symlink():  # whatever it leads to is not the repository's to compare
        click.echo(f"{out_dir} is a link: hks never reads through it; commit the rendered folder itself", err=True)
        sys.exit(1)
    if not out_dir.is_dir():  # a diff against nothing is every line of every file: say what is wrong
        click.echo(f"{out_dir} does not exist: run `hks render -C {config_dir} -o {out_dir}` and commit it", err=True)
        sys.exit(1)
    foreign = foreign_entries(out_dir)
    if foreign:  # a link is never followed (it could print /proc/self/environ), nor compared
        click.echo("".join(f"not written by hks: {out_dir / name}\n" for name in foreign), nl=False)
        click.echo(f"{out_dir} holds {len(foreign)} file(s) or link(s) hks did not write: remove them, "
                   f"then run `hks render -C {config_dir} -o {out_dir}`", err=True)
        sys.exit(1)
    difference = diff_tree(out_dir, files)
    if difference:
        click.echo(difference, nl=False)
        click.echo(_stale(config_dir, out_dir), err=True)
        sys.exit(1)
    loose = untracked(out_dir)
    if loose:
        click.echo("".join(f"not in Git: {out_dir / name}\n" for name in loose), nl=False)
        click.echo(f"{out_dir} is current but Git does not track {len(loose)} of its files: `git add {out_dir}`", err=True)
        sys.exit(1)
    click.echo(f"{out_dir} is current", err=True)
