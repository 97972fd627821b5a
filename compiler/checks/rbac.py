"""Members a workspace's RoleBinding may not name: Kubernetes' built-in identities for anyone at
all (K8S-010). `system:anonymous` and `system:unauthenticated` are valid subjects to the API
server, which is the danger: bound to a workspace's role, they hand its models to every
request that reaches the gateway, signed in or not."""

from __future__ import annotations

from compiler.diagnostics import Diagnostic, error
from compiler.model.config import Config

RULES: dict[str, str] = {
    "K8S-010": "workspace member that means anyone (system:anonymous, system:unauthenticated)",
}

ANYONE = frozenset({"system:anonymous", "system:unauthenticated"})


def check(config: Config) -> list[Diagnostic]:
    found = []
    for source in config.workspaces:
        members = source.body.members
        for kind in ("users", "groups"):
            for index, name in enumerate(getattr(members, kind) if members else ()):
                if name in ANYONE:
                    found.append(error(
                        source.doc.position(source.loc + ("members", kind, index)),
                        "K8S-010",
                        f"workspace '{source.name}': members.{kind} names '{name}', Kubernetes' identity for "
                        "requests nobody signed: it would give every caller the workspace's models",
                        hint="name the users or groups who need the workspace",
                    ))
    return found
