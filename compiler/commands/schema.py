from __future__ import annotations

from pathlib import Path

import click


@click.command(
    epilog="""\b
Editors complete and check config files with these schemas: write them into the config
repository (schemas/, as hks init does) and put this first line in org.yaml:
  # yaml-language-server: $schema=schemas/org.schema.json
and in workspaces/*.yaml: # yaml-language-server: $schema=../schemas/workspace.schema.json
\b
Examples:
  hks schema org > org.schema.json
  hks schema --output-dir schemas/"""
)
@click.argument("which", type=click.Choice(["org", "workspace"]), default="org")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), help="Write both schemas here.")
def command(which: str, output_dir: Path | None) -> None:
    """Print the JSON Schema of org.yaml (default) or of a workspace file."""
    from compiler.model.schema import SCHEMAS, json_schema_text

    if output_dir is None:
        click.echo(json_schema_text(which), nl=False)
        return
    from compiler.write import write_files

    for path in write_files(output_dir, {f"{name}.schema.json": json_schema_text(name) for name in sorted(SCHEMAS)}):
        click.echo(f"wrote {path}")
