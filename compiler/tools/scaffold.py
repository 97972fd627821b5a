"""`hks init`: the files of a new config repository, as text, their rendered folder (made aside),
and the one write of them all, which leaves nothing behind when it fails.

The starters are the smallest configs that validate and render as they are; the files name
the hks they were made with (`hks_source`), so the hooks and CI run the same hks.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from compiler import __version__
from compiler.builtin.resources import data_dir
from compiler.errors import InputError, RenderBug
from compiler.tools.hks_source import Source

EXAMPLE_WORKSPACE = "assistant"


# In a sub-folder of a Git repository, the Application must find rendered/ from the top.
CONFIG_FOLDER_LINE = "  config_folder: {}   # where this folder is in the repository (Argo CD reads from its top)\n"

# file in the new repository → template in templates/init/
FILES = {
    ".github/workflows/hks.yml": "github-workflow.yml",
    ".gitignore": "gitignore",
    ".gitlab-ci.yml": "gitlab-ci.yml",
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
    "README.md": "README.md",
    "org.yaml": "org.yaml",
    f"workspaces/{EXAMPLE_WORKSPACE}.yaml": "workspace.yaml",
}


# Read by pre-commit, GitHub and GitLab only at the Git repository's top: in a sub-folder, they go
# there and name the config folder with -C.
REPOSITORY_FILES = (".github/workflows/hks.yml", ".gitlab-ci.yml", ".pre-commit-config.yaml")


def _yaml_scalar(text: str) -> str:
    """`text` as a YAML scalar: plain when it is a path or URL of ordinary characters, else quoted."""
    import json

    return text if re.fullmatch(r"[A-Za-z0-9_./][A-Za-z0-9_./~+@:-]*", text) else json.dumps(text)


def place_in_repository(directory: Path) -> tuple[Path | None, str | None]:
    """The Git work tree DIRECTORY would be in, and DIRECTORY's path inside it when it is not
    the top: (None, None) outside Git. Found by looking for `.git`, without running git."""
    target = directory.resolve()
    for top in [target, *target.parents]:
        if (top / ".git").exists():
            return top, (target.relative_to(top).as_posix() if top != target else None)
    return None, None


def is_config_folder(folder: str) -> bool:
    from compiler.model.model import REPO_FOLDER

    return re.fullmatch(REPO_FOLDER, folder) is not None


def organization_name(folder_name: str) -> str:
    """A DNS-1123 label from a folder's name (`My Org` → `my-org`)."""
    label = re.sub(r"[^a-z0-9]+", "-", folder_name.lower()).strip("-")[:63].strip("-")
    return label or "my-org"


def files(
    organization: str, provider: str, source: Source, config_folder: str = ".", in_repository: str | None = None
) -> dict[str, str]:
    """The new repository's files by path. `config_folder` is what cluster.config_folder says;
    `in_repository`, the folder's path from the Git repository's top, is the folder the hooks
    and CI (REPOSITORY_FILES, at the top) name with -C."""
    import shlex

    from compiler.builtin import catalogue
    from compiler.model.schema import SCHEMAS, json_schema_text
    from compiler.providers import registry

    chosen = registry.get(provider)
    model = catalogue.default_model(provider)
    secrets = ["its admin key from the Secret `llm-gateway-master-key`"]
    secrets += [f"the {provider} API key from `{ref.secret}`" for ref in chosen.secrets(None)]
    secrets_note = (
        f"\nThe gateway reads {' and '.join(secrets)} (data key `key`) in the namespace\n"
        "`hexabase-aiops`: create them in the cluster, never in this repository.\n"
    )
    tokens = {
        "@ORG@": organization,
        "@PROVIDER@": provider,
        "@MODEL@": model,
        "@PROVIDER_BLOCK@": chosen.starter(model),
        "@OLLAMA_NOTE@": " and Ollama" if provider == registry.SELF_HOSTED else "",
        "@REPO@": _yaml_scalar(source.repo),
        "@REV@": source.rev,
        "@PIP_URL@": source.pip_url,
        "@VERSION@": __version__,
        "@CONFIG_FOLDER@": CONFIG_FOLDER_LINE.format(config_folder) if config_folder != "." else "",
        "@SECRETS_NOTE@": secrets_note,
        "@C@": f" -C {shlex.quote(in_repository)}" if in_repository else "",
        "@AT_TOP@": ", at the Git repository's top, naming this folder with -C" if in_repository else "",
        "@HOOK_ARGS@": f"\n        args: [-C, {_yaml_scalar(in_repository)}]" if in_repository else "",
    }
    found = {}
    for target, template in FILES.items():
        text = (data_dir("templates") / "init" / template).read_text("utf-8")
        for token, value in tokens.items():
            text = text.replace(token, value)
        found[target] = text
    for name in sorted(SCHEMAS):
        found[f"schemas/{name}.schema.json"] = json_schema_text(name)
    return dict(sorted(found.items()))


def refuse_existing(directory: Path, targets: list[str]) -> None:
    """errors.InputError (exit 2), naming them, when any of the files or folders init would make
    exists."""
    existing = [t for t in targets if (directory / t).exists() or (directory / t).is_symlink()]
    if not existing:
        return
    named = ", ".join(str(directory / t) for t in existing[:5]) + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
    raise InputError(f"{named} exist{'s' if len(existing) == 1 else ''}: hks init never overwrites a file")


def folder_name_notes(folder: str | None) -> list[str]:
    if folder is None or is_config_folder(folder):
        return []
    return [
        f"cluster.config_folder cannot name {folder}/ (letters, digits, '.', '_' and '-', no part "
        "starting with '.'): rename the folder before Argo CD deploys from it"
    ]


# What to add to a file the repository's top has already, instead of overwriting it.
MERGE_ADVICE = {
    ".pre-commit-config.yaml": "add this entry under its `repos:`",
    ".gitlab-ci.yml": "merge these keys into it (add the jobs; keep one `workflow:`, `default:` and `stages:`)",
    ".github/workflows/hks.yml": "it is not hks's: save this workflow under another name in .github/workflows/",
}


def merge_advice(path: str, text: str, folder: str) -> str:
    shown = text
    if path == ".pre-commit-config.yaml":  # only the entry: the file has its own `repos:`
        shown = text[text.index("repos:\n") + len("repos:\n"):]
    return (f"note: {path} exists at the repository's top, so hks left it as it is; for the hks checks of "
            f"{folder}, {MERGE_ADVICE[path]}:\n{shown}")


def render_starter(created: dict[str, str]) -> dict[str, str]:
    """The rendered folder of the new config, made in a temporary copy: on any failure nothing
    has been written to DIRECTORY."""
    import tempfile

    from compiler.pipeline import compile_config, render_checked

    with tempfile.TemporaryDirectory(prefix="hks-init-") as temporary:
        write_all(Path(temporary), created)
        compiled = compile_config(temporary)
        if not compiled.ok or compiled.config is None:  # a starter that does not validate is our bug
            raise RenderBug("the starter config does not validate: " + "; ".join(d.message for d in compiled.diagnostics))
        folder = compiled.config.org.cluster.path.strip("/")
        return {f"{folder}/{name}": text for name, text in render_checked(compiled).files.items()}


def write_all(root: Path, files: dict[str, str]) -> None:
    """Writes every file or, on an error, removes what it made: never a half-made repository."""
    made: list[Path] = []  # files and folders this call created, in order
    try:
        for relative, text in files.items():
            path = root / relative
            for folder in reversed(path.parents):
                if not folder.exists():
                    folder.mkdir()
                    made.append(folder)
            with path.open("x", encoding="utf-8") as handle:  # never overwrite, even in a race
                made.append(path)
                handle.write(text)
    except OSError as exc:
        for path in reversed(made):
            with contextlib.suppress(OSError):
                path.rmdir() if path.is_dir() else path.unlink()
        raise InputError(f"{exc.filename or root}: {exc.strerror}") from None
