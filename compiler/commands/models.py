from __future__ import annotations

import click


@click.command(
    epilog="""\b
Retired models are left out (the day is today, or HKS_TODAY=YYYY-MM-DD). The figures come from
LiteLLM's model map (scripts/update_catalogue.py) and hks's own catalogue/models.yaml.
\b
Examples:
  hks models --provider anthropic
  hks models --provider ollama
  hks models --embeddings
  hks models --format json | jq '.models[] | select(.retires == null) | .model'"""
)
@click.option("--provider", "provider", metavar="P", help="Only this provider's models (default: every provider).")
@click.option("--embeddings", is_flag=True, help="Only embedding models (what `embeddings:` may name).")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True)
def command(provider: str | None, embeddings: bool, fmt: str) -> None:
    """List the models each provider serves today, with their limits, prices and retirement."""
    from compiler.builtin import catalogue
    from compiler.suggest import did_you_mean
    from compiler.tools import models_report as modelsreport

    names = catalogue.provider_names()
    if provider is not None and provider not in names:
        hint = did_you_mean(provider, names) or f"one of {', '.join(names)}"
        raise click.BadParameter(f"unknown provider '{provider}': {hint}", param_hint="--provider")
    chosen = [provider] if provider else names
    found = modelsreport.rows(chosen, catalogue.today())
    if embeddings:
        found = [row for row in found if row["kind"] == "embedding"]
    click.echo(modelsreport.FORMATS[fmt](found), nl=False)
