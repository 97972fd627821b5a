"""What the editing commands share on the command line: `-C DIR`, `--dry-run`, groups that
suggest, and the last step of every edit: check, show or write, and say what happened."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from compiler.commands.common import CONFIG_DIR, FiniteFloatRange, use_colour
from compiler.providers.registry import NAMES

if TYPE_CHECKING:
    from compiler.diagnostics import Diagnostic
    from compiler.tools.edit import YamlFile

F = TypeVar("F", bound=Callable[..., Any])
LLM_KEYS = ("provider", "model", "temperature", "max_tokens", "top_p")  # the flags of llm_options
PROVIDERS = NAMES  # the registry's table, which names the provider modules without importing them


def override_keys() -> tuple[str, ...]:
    """Every key of llm_config, in the model's order (model.LLMConfig: importing it loads pydantic,
    so only when a command needs them)."""
    from compiler.model.model import LLMConfig

    return tuple(LLMConfig.model_fields)


def __getattr__(name: str) -> Any:
    if name == "OVERRIDE_KEYS":  # the model's keys, read when asked for
        return override_keys()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class SuggestingGroup(click.Group):
    """A command group whose unknown subcommands get a 'did you mean'."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in self.commands:
            from compiler.suggest import did_you_mean

            hint = did_you_mean(name, self.commands)
            ctx.fail(f"no such command '{name}'." + (f" {hint[0].upper()}{hint[1:]}" if hint else ""))
        return super().resolve_command(ctx, args)


class SuggestingChoice(click.Choice):  # type: ignore[type-arg]
    """A choice whose error names the nearest allowed value."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value not in self.choices:
            from compiler.suggest import did_you_mean

            hint = did_you_mean(value, [str(c) for c in self.choices])
            allowed = ", ".join(str(c) for c in self.choices)
            self.fail(f"'{value}' is not one of {allowed}." + (f" {hint[0].upper()}{hint[1:]}" if hint else ""), param, ctx)
        return super().convert(value, param, ctx)


class LazyChoice(SuggestingChoice):
    """A choice whose values are made on first use: `hks --help` loads no model for them."""

    def __init__(self, make: Callable[[], Sequence[str]]) -> None:
        self._make = make
        self._made: tuple[str, ...] | None = None
        super().__init__(())

    @property  # type: ignore[override]
    def choices(self) -> Sequence[str]:
        if self._made is None:
            self._made = tuple(self._make())
        return self._made

    @choices.setter
    def choices(self, _: Sequence[str]) -> None:
        """click.Choice sets its values in __init__; these are made when first read."""


def repo_options(function: F) -> F:
    function = click.option(
        "--dry-run", is_flag=True, help="Print the change as a unified diff and write nothing."
    )(function)
    return click.option(
        "-C",
        "--directory",
        "directory",
        default=".",
        show_default=True,
        type=CONFIG_DIR,
        help="The config repository to edit.",
    )(function)


def llm_options(function: F) -> F:
    """The settings flags of `org set-llm` and `workspace set-llm`."""
    for decorator in reversed(
        [
            click.option("--provider", type=SuggestingChoice(PROVIDERS), help="Who serves the model."),
            click.option("--model", help="The model: an Ollama tag or the provider's model name."),
            click.option("--temperature", type=FiniteFloatRange(0, 2), help="Sampling temperature, 0 to 2."),
            click.option("--max-tokens", type=click.IntRange(min=1), help="The most tokens a response may have."),
            click.option("--top-p", type=FiniteFloatRange(0, 1), help="Nucleus sampling, 0 to 1."),
            click.option(
                "--embeddings", metavar="PROVIDER/MODEL",
                help="The embedding model, such as ollama/nomic-embed-text:v1.5 (`hks models --embeddings`).",
            ),
        ]
    ):
        function = decorator(function)
    return function


def settings(**flags: Any) -> dict[str, Any]:
    """The flags that were given, as llm_config keys, in the model's order."""
    found: dict[str, Any] = {key: flags[key] for key in LLM_KEYS if flags.get(key) is not None}
    if flags.get("embeddings") is not None:
        found["embeddings"] = _embeddings(str(flags["embeddings"]))
    return found


def _embeddings(given: str) -> dict[str, str]:
    provider, _, model = given.partition("/")
    if provider not in PROVIDERS or not model:
        fail_usage(f"--embeddings takes PROVIDER/MODEL with PROVIDER one of {', '.join(PROVIDERS)}, "
                   f"such as openai/text-embedding-3-small, not '{given}'")
    return {"provider": provider, "model": model}


def open_or_exit(path: Path) -> YamlFile:
    from compiler.tools.edit_transaction import open_checked

    return open_checked(path)


def finish(
    directory: str,
    files: Iterable[YamlFile],
    *,
    dry_run: bool,
    done: list[str],
    next_steps: Iterable[str] = (),
    texts: dict[Path, str] | None = None,
    allow: frozenset[str] = frozenset(),
) -> bool:
    """The edit checked as `hks validate` would check it (tools/edit_transaction.py), then its
    diff printed (--dry-run) or its files written, and what happened said. `allow` names rules the
    edit may introduce (its next steps). Returns whether files were written."""
    from compiler.tools import edit_transaction

    pending = edit_transaction.prepare(directory, files, texts=texts, allow=allow)
    if pending is None:
        click.echo("nothing to change: " + "; ".join(done) if done else "nothing to change")
        return False
    if pending.warnings:  # a model that retires soon, or that the catalogue does not know
        from compiler import report

        click.echo(report.text(pending.warnings, use_colour(sys.stderr)), err=True, nl=False)
    if dry_run:
        click.echo(pending.diff(), nl=False)
        return False
    edit_transaction.commit(pending)
    for line in done:
        click.echo(line)
    for step in next_steps:
        click.echo(f"next: {step}")
    # what `hks validate` now says: the check saw the written files, a sealed secret's too
    if pending.errors_left:
        click.echo(
            f"hks: note: the config still has {pending.errors_left} error(s) it had before; run `hks validate`",
            err=True,
        )
    return True


def refuse(diagnostics: list[Diagnostic], message: str) -> NoReturn:
    from compiler.commands.common import show_refusal
    from compiler.errors import Refused

    show_refusal(Refused(message, diagnostics))


def fail(message: str, hint: str | None = None) -> NoReturn:
    """The request cannot be done with this config (exit 1)."""
    click.echo(f"hks: {message}", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(1)


def fail_usage(message: str) -> NoReturn:
    click.echo(f"hks: {message}", err=True)
    sys.exit(2)


def require_org(directory: str, command: str) -> Path:
    """org.yaml of the config to edit; without one, says where the config is (a folder below
    holding org.yaml: the usual mistake is running at a repository's top) or how to start one."""
    path = Path(directory) / "org.yaml"
    if path.is_file():
        return path
    from compiler.load.repo import configs_below

    below = configs_below(Path(directory))
    if below:
        where, others = below[0], [str(p) for p in below[1:]]
        also = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        fail(
            f"no org.yaml in {directory}; the config is in {where}/" + (f" (also in {also})" if others else ""),
            hint=f"run it there: {_as_typed(command, where)}",
        )
    fail(f"no org.yaml in {directory}", hint="start a config here with `hks llm enable --provider P` or `hks init`")


def _as_typed(command: str, folder: Path) -> str:
    """The command line the user typed, with `-C FOLDER`; a literal secret value stays out."""
    import shlex

    typed = sys.argv[1:]
    if " ".join(typed[:2]) != command or command.startswith("secret") or {"-C", "--directory"} & set(typed):
        return f"hks {command} -C {shlex.quote(str(folder))} ..."
    return "hks " + shlex.join([*typed, "-C", str(folder)])


def with_provider(values: dict[str, Any], current: str | None, org: Any) -> dict[str, Any]:
    """`--model` without `--provider`: the provider chosen for it (tools/edit_changes.py), said."""
    from compiler.tools import edit_changes

    values, chosen = edit_changes.with_provider(values, current, org)
    if chosen:
        click.echo(chosen)
    return values
