from __future__ import annotations

import shlex
import shutil
import sys

import click

from compiler.commands.common import CONFIG_DIR
from compiler.commands.editing import SuggestingChoice

COMPONENT_NAMES = ("gateway", "ollama", "pii")


@click.command(
    epilog="""\b
Examples:
  hks logs -n hexabase-aiops          # from the platform guide: every component
  hks logs gateway -f --since 1h
  hks logs ollama --tail 100
  hks logs --print                    # show the kubectl commands instead of running them
\b
Runs `kubectl logs` with the label selector and container name of each workload hks renders
for this config (app.kubernetes.io/component gateway, llm-server or pii), prefixing every line
with its pod. kubectl's exit status is passed through."""
)
@click.argument("component", required=False, type=SuggestingChoice(COMPONENT_NAMES))
@click.option("-n", "--namespace", help="Namespace of the platform services (default: cluster.namespace).")
@click.option("-f", "--follow", is_flag=True, help="Stream new lines as they come.")
@click.option("--since", metavar="DURATION", help="Only lines newer than this, e.g. 10m or 1h.")
@click.option("--tail", type=int, help="Lines per pod (kubectl shows 10 per pod with a selector).")
@click.option("--print", "print_only", is_flag=True, help="Print the kubectl commands instead of running them.")
@click.option("-v", "--verbose", is_flag=True, help="Show everything kubectl says when it fails, not just its last line.")
@click.option("-C", "--directory", "directory", default=".", show_default=True, type=CONFIG_DIR, help="The config repository.")
def command(
    component: str | None, namespace: str | None, follow: bool, since: str | None, tail: int | None,
    print_only: bool, verbose: bool, directory: str,
) -> None:
    """Show the logs of the LLM gateway, Ollama and the PII guardrail (all when none is named)."""
    from compiler.commands.common import compile_or_exit
    from compiler.render import manifests as render
    from compiler.tools import logs as kubelogs

    # Troubleshooting must not wait for a clean config: an error such as a missing sealed key
    # does not change which workloads run or how they are labelled.
    compiled = compile_or_exit(directory, show_warnings=False, allow_errors=True)
    assert compiled.config is not None
    if not compiled.ok:
        errors = sum(1 for d in compiled.diagnostics if d.is_error)
        click.echo(f"hks: note: the config has {errors} error(s) (see hks validate); the logs are of what it renders", err=True)
    documents = [m.body for m in render.render(compiled.config, compiled.workspaces)]
    wanted = [component] if component else list(COMPONENT_NAMES)
    found = {name: kubelogs.targets(documents, name) for name in wanted}
    for name in wanted:
        if not found[name] and component:
            click.echo(
                f"hks: this config renders no {name} workload (no workload labelled "
                f"{kubelogs.COMPONENT_LABEL}={kubelogs.COMPONENTS[name]}), so it has no logs to show",
                err=True,
            )
            sys.exit(1)
    commands = [kubelogs.command(t, namespace, follow, since, tail) for name in wanted for t in found[name]]
    if not commands:
        click.echo("hks: this config renders no workload with logs", err=True)
        sys.exit(1)
    if print_only:
        for args in commands:
            click.echo(shlex.join(args))
        return
    if shutil.which("kubectl") is None:
        click.echo("hks: kubectl is not installed or not on PATH; install it, or run `hks logs --print` "
                   "to see the commands", err=True)
        sys.exit(2)
    sys.exit(_run(commands, verbose))


def _write(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def _run(commands: list[list[str]], verbose: bool) -> int:
    """The commands run at once (with -f they never end); kubectl's status is passed through.
    Without a cluster, kubectl's retries become one line of hks's."""
    from compiler.tools.logs import run

    outcome = run(commands, verbose, _write)
    if outcome.unreachable is not None:
        click.echo("hks: kubectl cannot reach a Kubernetes cluster: check `kubectl config current-context` "
                   "and KUBECONFIG", err=True)
        if not verbose:
            click.echo(f"  kubectl: {outcome.unreachable} (-v shows all it said)", err=True)
    return outcome.code
