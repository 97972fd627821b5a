from __future__ import annotations

import shlex
from pathlib import Path

import click

from compiler.providers.registry import NAMES, SELF_HOSTED

PROVIDERS = NAMES  # the starters: one per provider in the registry's table


@click.command(
    epilog="""\b
Exit status: 0 created, 2 a file it would write exists already (nothing is written), or I/O error.
\b
Examples:
  hks init demo                      # a self-hosted (Ollama) starter in ./demo
  hks init llm-config --provider openai
  hks init demo --hks-repo https://git.example.com/platform/hks --hks-rev v0.1.0
  cd my-repo && hks init llm-config  # hooks and CI at my-repo's top, with -C llm-config
  cd demo && git init && git add -A && pre-commit run --all-files"""
)
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--provider", type=click.Choice(PROVIDERS), default=SELF_HOSTED, show_default=True, help="The starter's provider.")
@click.option("--organization", help="The organisation's name (a DNS label); default: from DIRECTORY's name.")
@click.option(
    "--hks-repo",
    metavar="URL|PATH",
    help="The hks Git repository the hooks and CI install from (a plain URL, or a folder); default: where this hks was installed from.",
)
@click.option("--hks-rev", metavar="REV", help="Its tag or commit; default: the commit this hks was installed from, or its version tag.")
def command(directory: Path, provider: str, organization: str | None, hks_repo: str | None, hks_rev: str | None) -> None:
    """Create a new config repository in DIRECTORY that validates and renders as it is.

    Writes a commented org.yaml, one example workspace, the editor schemas, the rendered
    folder, .pre-commit-config.yaml, CI workflows for GitHub Actions and GitLab CI, a
    .gitignore and a README. Never overwrites a file.

    In a sub-folder of a Git repository, the pre-commit config and the CI files go to the
    repository's top, where they are read, naming the folder with -C; one the top has
    already is left alone, and hks prints what to merge into it.

    The hooks and CI install the hks that runs this command: the Git checkout it was
    installed from, at its commit (which only this machine can fetch: say so with
    --hks-repo/--hks-rev before sharing), else the published repository at its version's tag.
    """
    from compiler.tools import hks_source, scaffold

    name = organization or scaffold.organization_name(directory.resolve().name)
    if scaffold.organization_name(name) != name:
        raise click.BadParameter(f"{name!r} is not a DNS label (lowercase letters, digits and '-')", param_hint="--organization")
    source = hks_source.chosen(hks_repo, hks_rev)
    top, folder = scaffold.place_in_repository(directory)
    created = scaffold.files(
        name, provider, source, folder if folder and scaffold.is_config_folder(folder) else ".", in_repository=folder
    )
    at_top = {path: created.pop(path) for path in scaffold.REPOSITORY_FILES} if top else {}
    scaffold.refuse_existing(directory, sorted([*created, "rendered"]))
    rendered = scaffold.render_starter(created)
    to_merge = {path: text for path, text in at_top.items() if top and _exists(top / path)}
    inside = f"{folder}/" if folder else ""
    # one write, so a failure leaves nothing behind in either place
    scaffold.write_all(top or directory, {**{inside + path: text for path, text in {**created, **rendered}.items()},
                              **{path: text for path, text in at_top.items() if path not in to_merge}})
    click.echo(f"created {len(created) + len(rendered)} files in {directory} ({provider} starter)", err=True)
    written_at_top = sorted(set(at_top) - set(to_merge))
    if written_at_top and folder:
        click.echo(f"created at the Git repository's top ({top}), where they are read: {', '.join(written_at_top)}", err=True)
    click.echo(f"hooks and CI: hks from {source.repo} at {source.rev}", err=True)
    for note in [*source.notes, *scaffold.folder_name_notes(folder)]:
        click.echo(f"note: {note}", err=True)
    for path, text in sorted(to_merge.items()):
        click.echo(scaffold.merge_advice(path, text, f"{folder}/" if folder else "this config"), err=True)
    click.echo(_next_step(directory, top, folder, written_at_top, sorted(to_merge)), err=True)


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _next_step(directory: Path, top: Path | None, folder: str | None, written: list[str], to_merge: list[str]) -> str:
    if top is None:
        enter = "" if directory.resolve() == Path.cwd() else f"cd {shlex.quote(str(directory))} && "
        return f"next: {enter}git init && git add -A && pre-commit run --all-files"
    added = " ".join(shlex.quote(p) for p in [folder or ".", *written, *to_merge])
    merge = f"merge the above into {' and '.join(to_merge)}, then " if to_merge else ""
    return f"next: from {top}: {merge}git add {added} && pre-commit run --all-files"


def _write(root: Path, files: dict[str, str]) -> None:
    """Every file or none (tools/scaffold.py)."""
    from compiler.tools import scaffold

    scaffold.write_all(root, files)
