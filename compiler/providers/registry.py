"""The providers hks knows: one sorted table of names and the modules that describe them.

The schema's provider names (model.ProviderName) and the command line's choices are this table's
names; a provider's module is imported the first time it is asked for, so `hks --help` imports
none. Adding a provider: its module here (see base.py), a line below, its catalogue data.
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # base.py imports pydantic: the command line's choices must not
    from compiler.providers.base import Provider, Settings

PROVIDERS: tuple[tuple[str, str], ...] = (
    ("anthropic", "compiler.providers.anthropic"),
    ("azure-openai", "compiler.providers.azure_openai"),
    ("bedrock", "compiler.providers.bedrock"),
    ("google", "compiler.providers.google"),
    ("mistral", "compiler.providers.mistral"),
    ("ollama", "compiler.providers.ollama"),
    ("openai", "compiler.providers.openai"),
    ("openai-compatible", "compiler.providers.openai_compatible"),
)
NAMES: tuple[str, ...] = tuple(name for name, _ in PROVIDERS)
# The provider whose models the `self_hosted:` deployment serves (render/components/ollama.py).
SELF_HOSTED = "ollama"


@functools.cache
def get(name: str) -> Provider:
    """The provider called `name`; KeyError for a name the table does not list."""
    from compiler.providers.base import Provider

    module = importlib.import_module(dict(PROVIDERS)[name])
    provider = module.PROVIDER
    if not isinstance(provider, Provider) or provider.name != name:
        raise TypeError(f"{module.__name__}.PROVIDER is not the Provider named {name!r}")
    return provider


def every() -> tuple[Provider, ...]:
    return tuple(get(name) for name in NAMES)


@functools.cache
def settings_class() -> type[Settings]:
    """The settings `providers.<name>` takes: one class inheriting every provider's own (so a
    provider reads its keys with `base.own`); keys another provider declares are accepted, as
    one class for all always did."""
    from compiler.providers.base import Settings

    kinds = tuple(dict.fromkeys(p.settings for p in every() if p.settings is not Settings)) or (Settings,)
    return cast("type[Settings]", type("ProviderSettings", kinds, {"__doc__": None, "__module__": "compiler.model.model"}))
