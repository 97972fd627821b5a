"""What each editing command changes in the config tree: pure functions over round-trip trees
(edit.py loads and writes them). Each returns the lines that say what the file now holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler.builtin import catalogue
from compiler.errors import Refused
from compiler.providers import registry
from compiler.tools import edit

# `hks llm enable --provider ollama`: the keys a platform engineer will want to look at first,
# at their built-in defaults (the schema's), so the file shows what can be tuned.
SELF_HOSTED_DEFAULTS: dict[str, Any] = {
    "models": [],
    "node_selector": {"node-role": "llm"},
    "gpu": {"vendor": "nvidia", "count": 1},
    "keep_alive": "5m",
}


def enable(org: edit.YamlFile, provider: str) -> list[str]:
    data, said = org.data, []
    llm = edit.find(data, ("llm_config",))
    if not llm or not llm.get("provider"):
        edit.set_path(data, ("llm_config", "provider"), provider, org.original)
        said.append(f"llm_config.provider: {provider}")
        if not edit.find(data, ("llm_config", "model")):
            model = catalogue.default_model(provider)
            edit.set_path(data, ("llm_config", "model"), model, org.original)
            said.append(f"llm_config.model: {model}")
    if provider == registry.SELF_HOSTED:
        if not edit.find(data, ("self_hosted",)):
            edit.set_path(data, ("self_hosted",), SELF_HOSTED_DEFAULTS, org.original)
        said.append("self_hosted: the Ollama deployment")
    elif edit.find(data, ("providers", provider)) is None:
        settings = registry.get(provider).enable_settings()
        edit.set_path(data, ("providers", provider), settings, org.original)
        said += [f"providers.{provider}.{key}: {value}" for key, value in settings.items()]
    else:
        said.append(f"providers.{provider} is configured")
    return [f"{_name(org)}: {line}" for line in said]


def set_llm(target: edit.YamlFile, at: tuple[str, ...], values: dict[str, Any]) -> list[str]:
    """Sets llm keys in the mapping at `at` (made when missing)."""
    where, said = ".".join(at), []
    for key, value in values.items():
        changed = edit.set_path(target.data, at + (key,), value, target.original)
        said.append(f"{_name(target)}: {where}.{key}" + (f": {_show(value)}" if changed else f" is already {_show(value)}"))
    return said


def unset_llm(target: edit.YamlFile, at: tuple[str, ...], keys: list[str]) -> list[str]:
    """Removes override keys; an override left empty is removed with them."""
    said, carry = [], ""
    edit.check_unshared(target.data, at + ("",))
    override = edit.find(target.data, at)
    for key in keys:
        if override is None or key not in override:
            said.append(f"{_name(target)}: {'.'.join(at)}.{key} is not set")
            continue
        carry = edit.delete_key(override, key, carry)
        said.append(f"{_name(target)}: removed {'.'.join(at)}.{key}; the organisation's default applies")
    if override is not None and not len(override):
        parent = edit.find(target.data, at[:-1])
        # an empty override goes, unless it is all the workspace says: then `llm_override: {}` stays
        if len(parent) > 1:
            carry = edit.delete_key(parent, at[-1], carry)
        else:
            edit.give_after(parent, at[-1], carry)
            carry = ""
    return said


def new_workspace(path: Path, name: str, values: dict[str, Any]) -> tuple[edit.YamlFile, list[str]]:
    """workspaces/NAME.yaml, new: the workspace inherits org.yaml's llm_config but for `values`."""
    target = edit.new_file(path)
    target.data["workspace"] = name
    done = [f"{target.path}: workspace '{name}' (inherits org.yaml's llm_config)"]
    done += set_llm(target, ("llm_override",), values) if values else []
    return target, done


def model_name(entry: Any) -> str:
    return str(entry["name"]) if isinstance(entry, dict) else str(entry)


def install(org: edit.YamlFile, entry: str | dict[str, Any]) -> list[str]:
    """Adds a model to self_hosted.models, or replaces the custom model of the same name."""
    from compiler.builtin.catalogue import normalise

    data = org.data
    edit.check_unshared(data, ("self_hosted", "models"))
    if edit.find(data, ("self_hosted",)) is None:
        edit.set_path(data, ("self_hosted",), {**SELF_HOSTED_DEFAULTS, "models": [entry]}, org.original)
        return [f"{_name(org)}: self_hosted.models: + {model_name(entry)}"]
    models = edit.find(data, ("self_hosted", "models"))
    if models is None:
        edit.set_path(data, ("self_hosted", "models"), [entry], org.original)
        return [f"{_name(org)}: self_hosted.models: + {model_name(entry)}"]
    wanted = normalise(registry.SELF_HOSTED, model_name(entry))
    for index, existing in enumerate(models):
        if normalise(registry.SELF_HOSTED, model_name(existing)) == wanted:
            if isinstance(entry, dict) and not edit.same(existing, entry):
                models[index] = edit.commented(entry)
            return [f"{_name(org)}: self_hosted.models: {model_name(entry)}"]
    edit.append_item(models, entry)
    return [f"{_name(org)}: self_hosted.models: + {model_name(entry)}"]


def remove(org: edit.YamlFile, name: str) -> list[str]:
    from compiler.builtin.catalogue import normalise

    edit.check_unshared(org.data, ("self_hosted", "models"))
    models = edit.find(org.data, ("self_hosted", "models")) or []
    for index, existing in enumerate(models):
        if normalise(registry.SELF_HOSTED, model_name(existing)) == normalise(registry.SELF_HOSTED, name):
            left = edit.remove_item(models, index)
            edit.give_after(edit.find(org.data, ("self_hosted",)), "models", left)
            return [f"{_name(org)}: self_hosted.models: - {model_name(existing)}"]
    from compiler.suggest import did_you_mean

    hint = did_you_mean(name, [model_name(m) for m in models])
    return [f"{_name(org)}: {name} is not in self_hosted.models" + (f" ({hint})" if hint else "")]


def _name(target: edit.YamlFile) -> str:
    """The file as every path in a run is printed: from the current folder, as diagnostics are."""
    return str(target.path)


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return str(value)


def with_provider(values: dict[str, Any], current: str | None, org: edit.YamlFile | None) -> tuple[dict[str, Any], str | None]:
    """`--model` without `--provider` for a model the current provider does not offer: the
    provider is the one the organisation has enabled that offers it (the user just ran
    `hks llm enable` for it), returned with the line that says so; with none or several,
    errors.Refused says which flag to add."""
    model = values.get("model")
    if model is None or "provider" in values or not current or catalogue.lookup(current, str(model)):
        return values, None
    offering = sorted(set(catalogue.providers_offering(str(model)))
                      | set(catalogue.providers_offering(catalogue.normalise(registry.SELF_HOSTED, str(model)))))
    if not offering:
        return values, None  # not in the catalogue at all: validation says so, with its own hint
    providers = edit.find(org.data, ("providers",)) if org is not None else None
    enabled = {str(p) for p in providers or {}}
    if org is not None and edit.find(org.data, ("self_hosted",)) is not None:
        enabled.add(registry.SELF_HOSTED)
    offering = catalogue.rank_providers(offering, enabled)
    chosen = [p for p in offering if p in enabled]
    if len(chosen) == 1:
        return ({"provider": chosen[0], **values},
                f"provider {chosen[0]}: {model} is not offered by {current}, and {chosen[0]} is the enabled provider that offers it")
    if chosen:
        raise Refused(f"refused: {model} is offered by {', '.join(chosen)}, all enabled; say which (nothing was changed)",
                      hint=" or ".join(f"--provider {p}" for p in chosen))
    raise Refused(f"refused: {model} is not offered by {current} (the provider in use) but by {', '.join(offering)} "
                  "(nothing was changed)",
                  hint=f"add --provider {offering[0]} (after `hks llm enable --provider {offering[0]}` if the organisation does not use it yet)")
