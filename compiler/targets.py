"""The gateway's deployments of each workspace: its primary model, its fallbacks in order, its
embedding model, each under the alias LiteLLM serves it by. Checks, policy facts, egress and render
all walk these."""

from __future__ import annotations

from dataclasses import dataclass

from compiler.merge import Workspace


@dataclass(frozen=True)
class Target:
    """One LiteLLM deployment: a workspace's primary model, one of its fallbacks, or its
    embedding model."""

    alias: str
    provider: str
    model: str
    embedding: bool = False


def targets(workspace: Workspace) -> list[Target]:
    """Every deployment of the workspace: its chat aliases, then its embedding alias."""
    found = chat_targets(workspace)
    embeddings = workspace.llm.embeddings
    if embeddings is not None:
        found.append(Target(embedding_alias(workspace.name), embeddings.provider, embeddings.model, True))
    return found


def chat_targets(workspace: Workspace) -> list[Target]:
    """The primary model, then its fallbacks in order."""
    llm = workspace.llm
    found = [Target(workspace.name, llm.provider, llm.model)]
    for index, fallback in enumerate(llm.fallbacks or (), start=1):
        found.append(Target(fallback_alias(workspace.name, index), fallback.provider, fallback.model))
    return found


def fallback_alias(workspace: str, index: int) -> str:
    # A dot cannot occur in a workspace name (a DNS label), so no alias can collide.
    return f"{workspace}.fallback-{index}"


def embedding_alias(workspace: str) -> str:
    return f"{workspace}.embeddings"
