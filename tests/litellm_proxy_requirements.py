"""Prints, one per line, what the `proxy` extra of the installed `litellm` requires, without the
`litellm-proxy` package it names from 1.84 on (never published: the proxy's code ships inside the
`litellm` wheel). Run by tests/install-tools.sh with the LiteLLM venv's own Python.

A pin the registry cannot meet yet (`litellm-enterprise==0.1.83.post1` when only 0.1.83 is
published) becomes "the newest release not newer than the pin"; everything else stays exact.
"""

from __future__ import annotations

import importlib.metadata
import sys

try:
    from packaging.requirements import Requirement
except ImportError:  # pip always carries it
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]

# Companion packages released beside litellm whose exact pins may run ahead of the registry.
LAGGING = {"litellm-enterprise", "litellm-proxy-extras"}


def proxy_requirements() -> list[str]:
    found = []
    for line in importlib.metadata.requires("litellm") or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or not marker.evaluate({"extra": "proxy"}) or marker.evaluate({"extra": ""}):
            continue  # not the extra's own (the base requirements are installed already)
        if requirement.name == "litellm-proxy":
            continue
        requirement.marker = None
        text = str(requirement)
        if requirement.name in LAGGING and str(requirement.specifier).startswith("=="):
            text = f"{requirement.name}<={str(requirement.specifier)[2:]}"
        found.append(text)
    return found


if __name__ == "__main__":
    sys.stdout.write("".join(f"{line}\n" for line in proxy_requirements()))
