from __future__ import annotations

import sys
from pathlib import Path

import click

from compiler.commands.common import compile_or_exit, config_dir_arguments, use_colour

FORMATS = ["json", "markdown", "text"]


@click.command(
    epilog="""\b
Exit status:
  0  it ran (with --exit-code: and nothing changes)
  1  with --exit-code: something changes; the diff is on stdout, nothing on stderr
  1  the config in CONFIG_DIR has errors, as for every hks command; they are on stderr,
     nothing on stdout (in CI, `hks validate` first tells the two apart)
  2  usage or I/O error: no such revision, not a Git repository, a file in Git LFS
  3  an internal error of hks
\b
Examples:
  hks diff --base main                        # this branch against main
  hks diff --base HEAD~1 --format markdown    # a pull-request comment
  hks diff examples/acme --against examples/acme/rendered --exit-code"""
)
@config_dir_arguments
@click.option("--base", "rev", metavar="REV", help="Compare with the config at this Git revision.")
@click.option(
    "--against",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Compare with an existing rendered folder instead (resources and routing settings only).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when anything changes, like `git diff --exit-code` (see Exit status).")
def command(config_dir: str, rev: str | None, out_dir: Path | None, fmt: str, exit_code: bool) -> None:
    """Show what a change to the config does: each workspace's effective settings, and the
    rendered resources added, removed or changed.

    With --base REV, the config at REV (read from Git as committed, the working tree untouched)
    is compared with the config in CONFIG_DIR. Secret data is never shown.
    """
    from compiler.pipeline import render_checked
    from compiler.tools import diff
    from compiler.write import read_tree

    if (rev is None) == (out_dir is None):
        raise click.UsageError("give either --base REV or --against OUT_DIR")
    compiled = compile_or_exit(config_dir, show_warnings=False)
    after_files = render_checked(compiled).files
    after = {w.name: diff.settings(w) for w in compiled.workspaces}
    notes: list[str] = []
    if rev is not None:
        before_files, before, notes, base = _at_revision(config_dir, rev)
        workspaces = diff.compare_settings(before, after)
    else:
        assert out_dir is not None
        if not out_dir.is_dir():
            raise click.UsageError(f"--against {out_dir}: no such folder")
        before_files = read_tree(out_dir)
        before = diff.settings_from_rendered(before_files)
        known = {k for s in before.values() for k in s}
        workspaces = diff.compare_settings(before, after, keys=known)
        base = str(out_dir)
        notes.append("compared with a rendered folder: compliance and residency are not in it")
    resources, files = diff.compare_rendered(before_files, after_files)
    result = diff.Diff(base, tuple(workspaces), tuple(resources), tuple(notes), tuple(files))
    click.echo(diff.FORMATS[fmt](result, fmt == "text" and use_colour(sys.stdout)), nl=False)
    if exit_code and result.changed:
        sys.exit(1)


def _at_revision(config_dir: str, rev: str) -> tuple[dict[str, str], dict[str, dict[str, object]], list[str], str]:
    """The rendered files and settings of the config at REV; empty, with a note, when there is
    none to compare with (gitrev.compiled_at)."""
    from compiler.pipeline import render_checked
    from compiler.tools import diff, gitrev

    with gitrev.compiled_at(config_dir, rev) as (compiled, note):
        if compiled is None:
            return {}, {}, [note or ""], rev
        files = render_checked(compiled).files
        return files, {w.name: diff.settings(w) for w in compiled.workspaces}, [], rev
