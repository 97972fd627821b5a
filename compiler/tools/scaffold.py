"""`hks init`: the files of a new config repository, as text. Writes nothing (the command does).

The starters are the smallest configs that validate and render as they are; the files name
the hks they were made with (`hks_source`), so the hooks and CI run the same hks.
"""

from __future__ import annotations

import re
from pathlib import Path

from compiler import __version__
from compiler.builtin.resources import data_dir
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
