"""Checks of each model a config names against the catalogue: known to its provider, still served
(retirement), and given only settings it accepts (docs/catalogue.md).

Ollama's cloud models (`gpt-oss:120b-cloud`, `NAME:cloud`) are checked wherever they are named
(CAT-009, CAT-010): a request to one leaves the cluster for ollama.com, and the Ollama hks renders
runs with OLLAMA_NO_CLOUD=1, so it refuses them (docs/self-hosted.md, "Cloud models").

Retirement findings (CAT-004, CAT-005) are returned as policy findings too, so an organisation's
waivers can name them: Azure and Vertex deployments sometimes outlive the public date."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from compiler.builtin import catalogue
from compiler.builtin.catalogue import ModelInfo, refusal
from compiler.diagnostics import Diagnostic, Position, error, warning
from compiler.merge import Sourced, Workspace
from compiler.model.config import Config, WorkspaceSource
from compiler.providers import registry
from compiler.suggest import did_you_mean

RULES: dict[str, str] = {
    "CAT-001": "model not in the catalogue",
    "CAT-002": "max_tokens above the model's output limit",
    "CAT-003": "model offered by another provider",
    "CAT-004": "model retired by its provider",
    "CAT-005": "model retiring within 90 days",
    "CAT-006": "setting the model refuses",
    "CAT-007": "self-hosted model tag not pinned",
    "CAT-008": "custom model source is not a URL the nodes can fetch",
    "CAT-009": "Ollama cloud model where data must stay in place (residency, on-premises, HIPAA)",
    "CAT-010": "Ollama cloud model: it runs at ollama.com, and hks's Ollama refuses it",
    "EMB-001": "embedding model named as a chat model, or a chat model as the embedding model",
    "EMB-002": "embedding model on a provider that offers none",
}

WAIVABLE = ("CAT-004", "CAT-005")
SETTINGS = ("temperature", "top_p")


@dataclass(frozen=True)
class Retirement:
    """A retired or retiring model (CAT-004, CAT-005) a workspace (None: the defaults) uses."""

    workspace: str | None
    diagnostic: Diagnostic


@dataclass(frozen=True)
class Use:
    """One model a workspace (or, with no workspace, the organisation's defaults) sends requests to."""

    workspace: str | None
    provider: str
    name: str
    where: Sourced  # the `model:` (or `fallbacks:`) that names it
    settings: dict[str, Sourced]  # the effective llm_config values and where each was set
    primary: bool
    embedding: bool = False  # named under `embeddings:`


def check_models(
    config: Config, workspaces: tuple[Workspace, ...], day: datetime.date
) -> tuple[list[Diagnostic], list[Retirement]]:
    """Diagnostics for unknown models, output limits and refused settings; retirements apart,
    for the policy stage, where an organisation's waivers may accept them."""
    custom = _custom_models(config)
    # The providers the organisation has set up: a CAT-003 hint names one of these first.
    enabled = frozenset(config.org.providers) | ({registry.SELF_HOSTED} if config.org.self_hosted else set())
    diagnostics: list[Diagnostic] = []
    findings: list[Retirement] = []
    diagnostics += check_cloud(config, workspaces, day)
    for use in _uses(config, workspaces):
        if use.provider == registry.SELF_HOSTED and use.name in custom:
            continue
        if catalogue.is_cloud(use.provider, use.name):
            continue  # check_cloud says what matters about it; the catalogue has no figures for it
        if not registry.get(use.provider).catalogued:
            continue  # any model its server serves: no list to check against
        if use.embedding and not catalogue.offers_embeddings(use.provider):
            diagnostics.append(_no_embeddings(use))
            continue
        info = catalogue.lookup(use.provider, use.name)
        if info is None:
            diagnostics += _unknown(use, day, enabled)
            continue
        if use.embedding != catalogue.is_embedding(info):
            diagnostics.append(_wrong_kind(use))
            continue
        if not use.embedding:
            diagnostics += _output_limit(use, info)
        if use.workspace is None and workspaces:
            continue  # the workspaces that inherit the defaults report these, each for itself
        if not use.embedding:
            diagnostics += _refused_settings(use, info)
        retired = _retirement(use, info, day, _vertex(config, use.provider))
        if retired is not None:
            findings.append(Retirement(use.workspace, retired))
    return diagnostics, findings


def _uses(config: Config, workspaces: tuple[Workspace, ...]) -> list[Use]:
    """The organisation's defaults (which stand alone when there is no workspace yet), then every
    workspace's models."""
    uses = _org_uses(config)
    for w in workspaces:
        sources, llm = w.llm_sources, w.llm
        uses.append(Use(w.name, llm.provider, llm.model, sources["model"], sources, True))
        for fallback in llm.fallbacks or ():
            uses.append(Use(w.name, fallback.provider, fallback.model, sources["fallbacks"], sources, False))
        if llm.embeddings is not None:
            embeddings = llm.embeddings
            uses.append(Use(w.name, embeddings.provider, embeddings.model, sources["embeddings.model"], sources, False, True))
    return uses


def _org_uses(config: Config) -> list[Use]:
    llm, doc = config.org.llm_config, config.org_doc

    def at(key: str, value: object) -> Sourced:
        position = doc.position(("llm_config", key))
        return Sourced(value, position if key in llm.model_fields_set else None, "org" if key in llm.model_fields_set else "default")

    settings = {key: at(key, getattr(llm, key)) for key in (*SETTINGS, "max_tokens")}
    uses = [Use(None, llm.provider, llm.model, at("model", llm.model), settings, True)]
    for fallback in llm.fallbacks or ():
        uses.append(Use(None, fallback.provider, fallback.model, at("fallbacks", None), settings, False))
    if llm.embeddings is not None:
        where = Sourced(llm.embeddings.model, doc.position(("llm_config", "embeddings", "model")), "org")
        uses.append(Use(None, llm.embeddings.provider, llm.embeddings.model, where, settings, False, True))
    return uses


def _custom_models(config: Config) -> set[str]:
    from compiler.providers import selfhosted

    return {m.name for m, _, _ in selfhosted.listed_models(config) if not isinstance(m, str)}


def _vertex(config: Config, provider: str) -> bool:
    return registry.get(provider).uses_vertex_dates(config.org.providers.get(provider))


def _origin(where: Sourced) -> Position:
    return where.origin or Position("<built-in>")


def _unknown(use: Use, day: datetime.date, enabled: frozenset[str]) -> list[Diagnostic]:
    others = catalogue.rank_providers([p for p in catalogue.providers_offering(use.name) if p != use.provider], enabled)
    suggestion = (catalogue.replacements(use.provider, use.name, day, embedding=use.embedding) or [catalogue.default_model(use.provider)])[0]
    if others:
        if use.embedding:
            hint = f"set embeddings: {{provider: {others[0]}, model: {use.name}}}, or an embedding model {use.provider} offers, such as {suggestion}"
            flag_hint = f"use --embeddings {others[0]}/{use.name}, or --embeddings {use.provider}/{suggestion}"
        else:
            hint = f"set provider: {others[0]}, or a model {use.provider} offers, such as {suggestion}"
            flag_hint = f"use --provider {others[0]}, or a model {use.provider} offers, such as --model {suggestion}"
        message = f"model '{use.name}' is offered by {', '.join(others)}, not by {use.provider}"
        return [error(_origin(use.where), "CAT-003", message, hint=hint, flag_hint=flag_hint)]
    near = did_you_mean(use.name, catalogue.current_models(use.provider, day))
    hint = near or f"`hks models --provider {use.provider}` lists the models it serves, such as {suggestion}"
    message = f"model '{use.name}' is not in the catalogue of {use.provider} models (hks cannot check its limits or price)"
    return [warning(_origin(use.where), "CAT-001", message, hint)]


def _no_embeddings(use: Use) -> Diagnostic:
    offering = [p for p in catalogue.provider_names() if catalogue.offers_embeddings(p)]
    return error(
        _origin(use.where),
        "EMB-002",
        f"{use.provider} offers no embedding models, so '{use.name}' cannot embed anything",
        hint=f"name another provider for embeddings ({', '.join(offering)}); that provider's compliance rules apply to it",
    )


def _wrong_kind(use: Use) -> Diagnostic:
    if use.embedding:
        message = f"'{use.name}' is a chat model, not an embedding model: /v1/embeddings cannot use it"
        hint = f"`hks models --provider {use.provider} --embeddings` lists its embedding models"
    else:
        message = f"'{use.name}' is an embedding model: it cannot answer chat requests"
        hint = f"name it under embeddings: {{provider: {use.provider}, model: {use.name}}}, and a chat model here"
    return error(_origin(use.where), "EMB-001", message, hint)


def _output_limit(use: Use, info: ModelInfo) -> list[Diagnostic]:
    max_tokens = use.settings.get("max_tokens")
    if max_tokens is None or not isinstance(max_tokens.value, int) or max_tokens.value <= info.max_output:
        return []
    return [
        error(
            max_tokens.origin or _origin(use.where),
            "CAT-002",
            f"max_tokens {max_tokens.value} is above {use.name}'s output limit of {info.max_output} tokens",
            hint=f"set max_tokens to {info.max_output} or less",
            flag_hint=f"use --max-tokens {info.max_output} or less",
        )
    ]


def _retirement(use: Use, info: ModelInfo, day: datetime.date, vertex: bool) -> Diagnostic | None:
    retires = info.retires(vertex)
    if retires is None or (retires - day).days > catalogue.RETIRING_SOON_DAYS:
        return None
    by = "Vertex AI" if vertex else use.provider
    instead = catalogue.replacements(use.provider, use.name, day, vertex, embedding=use.embedding)
    such_as = f", such as {' or '.join(instead)}" if instead else ""
    kind, flag, listing = ("embedding model", f"--embeddings {use.provider}/MODEL", " --embeddings") if use.embedding else ("model", "--model", "")
    if retires <= day:
        return error(
            _origin(use.where),
            "CAT-004",
            f"model '{use.name}' was retired by {by} on {retires.isoformat()}: its requests fail",
            hint=f"use a current {use.provider} {kind}{such_as} (`hks models --provider {use.provider}{listing}`), "
            "or waive CAT-004 if your deployment still serves it",
            flag_hint=f"use {flag} with a current {use.provider} {kind}{such_as} (`hks models --provider {use.provider}{listing}`)",
        )
    return warning(
        _origin(use.where),
        "CAT-005",
        f"model '{use.name}' retires on {retires.isoformat()} ({(retires - day).days} days from now)",
        hint=f"plan a move to a current {use.provider} {kind}{such_as}",
    )


def _refused_settings(use: Use, info: ModelInfo) -> list[Diagnostic]:
    found = []
    for key in SETTINGS:
        setting = use.settings.get(key)
        if setting is None or setting.value is None or setting.origin is None:
            continue  # unset, or a built-in default the gateway leaves out when refused (render/litellm_config.py)
        reason = refusal(info, key, setting.value)
        if reason:
            found.append(error(setting.origin, "CAT-006", _refusal_message(use, key, setting, reason),
                               _refusal_hint(use, key, setting, info), _refusal_flag_hint(use, key, setting, info)))
    return found


def _refusal_message(use: Use, key: str, setting: Sourced, reason: str) -> str:
    whose = f"workspace '{use.workspace}': " if use.workspace else ""
    role = "" if use.primary else "fallback "
    return f"{whose}{role}model {use.name} {reason}, not {key}: {setting.value} (the gateway would refuse every request)"


def _refusal_hint(use: Use, key: str, setting: Sourced, info: ModelInfo) -> str:
    fix = "temperature: 1" if key == "temperature" and info.facts.get(key) == 1 else f"{key}: null"
    limit = catalogue.provider_fact(info.provider, f"{key}_max")
    if limit is not None and info.facts.get(key) is None:
        fix = f"{key}: {limit:g} or less"
    if use.workspace and setting.layer == "org":
        return f"inherited from the organisation's llm_config ({setting.origin}); set llm_override.{fix} in this workspace, or pick another model"
    return f"set {fix}, or pick another model"


def _refusal_flag_hint(use: Use, key: str, setting: Sourced, info: ModelInfo) -> str:
    """_refusal_hint in the editing commands' flags."""
    flag = "--" + key.replace("_", "-")
    limit = catalogue.provider_fact(info.provider, f"{key}_max")
    if key == "temperature" and info.facts.get(key) == 1:
        fix = f"{flag} 1"
    elif limit is not None and info.facts.get(key) is None:
        fix = f"{flag} {limit:g} or less"
    elif use.workspace and setting.layer == "workspace":
        fix = f"--unset {key}"
    else:
        fix = f"no {key} (delete it from {setting.origin})"
    if use.workspace and setting.layer == "org":
        return f"it is the organisation's ({setting.origin}): hks workspace set-llm {use.workspace} {fix}, or another --model"
    return f"use {fix}, or another --model"


def check_installed(config: Config) -> list[Diagnostic]:
    """self_hosted.models is checked like every other model: a tag the catalogue does not know
    (a typo's pull fails on the node, and the pod never turns Ready) and a tag that moves
    (`llama3`, `llama3:latest`: each node may pull a different model)."""
    from compiler.providers import selfhosted

    found: list[Diagnostic] = []
    for tag, loc, _ in selfhosted.listed_models(config):  # self_hosted.models and each pool's
        if not isinstance(tag, str):
            found += _check_source(config, loc, tag.name, tag.source)
            continue
        if catalogue.is_cloud(registry.SELF_HOSTED, tag):
            continue  # check_cloud reports it
        where = config.org_doc.position(loc)
        family, _, version = tag.partition(":")
        pinned = sorted(t for t in catalogue.models(registry.SELF_HOSTED) if t.split(":")[0] == family and not t.endswith(":latest"))
        if version in ("", "latest"):
            found.append(warning(where, "CAT-007", f"'{tag}' is not pinned: its model changes when Ollama moves the tag, "
                                 "and nodes that pull at different times serve different models",
                                 hint=f"pin a size tag, such as {', '.join(pinned[:3])}" if pinned else "pin a tag that names the size"))
        elif catalogue.lookup(registry.SELF_HOSTED, tag) is None:
            hint = did_you_mean(tag, catalogue.models(registry.SELF_HOSTED)) or "hks cannot check that it exists or fits the GPU"
            found.append(warning(where, "CAT-001", f"model '{tag}' is not in the catalogue of ollama models", hint))
    return found


# --- Ollama's cloud models -----------------------------------------------------------------------


ORG_DEFAULTS = "the organisation's defaults"


@dataclass(frozen=True)
class Named:
    """One place a config names a model: self_hosted.models, or a workspace's (or, with no
    workspace, the organisation's) model, fallback or embedding model."""

    workspace: str | None
    role: str  # "model", "fallback", "embedding model", "self_hosted.models" or "pool 'NAME'"
    provider: str
    name: str
    at: Position


def check_cloud(config: Config, workspaces: tuple[Workspace, ...], day: datetime.date) -> list[Diagnostic]:
    """An Ollama cloud model named anywhere. A request to one leaves the cluster for ollama.com,
    and hks's Ollama refuses it (OLLAMA_NO_CLOUD=1, render/components/ollama.py): an error where
    data must stay in place (CAT-009), a warning elsewhere (CAT-010), since the model cannot answer
    either way. self_hosted.models is served to every workspace, so it is judged by all of them."""
    binding = {w.name: _binding(w.data_residency, w.compliance) for w in workspaces}
    if not workspaces:
        binding[""] = _org_binding(config)
    found: list[Diagnostic] = []
    for named in _named(config, workspaces):
        if not catalogue.is_cloud(named.provider, named.name):
            continue
        if named.workspace is None:
            bound = sorted((name or ORG_DEFAULTS, why) for name, why in binding.items() if why)
        else:
            why = binding.get(named.workspace)
            bound = [(named.workspace, why)] if why else []
        found.append(_cloud(named, bound, day))
    return found


def _binding(residency: Sourced | None, compliance: tuple[Sourced, ...]) -> str | None:
    """Why data must stay where it is, None when nothing binds it."""
    if residency is not None and residency.value is not None:
        value = str(getattr(residency.value, "value", residency.value))
        return "is on-premises" if value == "on-premises" else f"must keep data in '{value}'"
    if any(str(getattr(c.value, "value", c.value)) == "hipaa" for c in compliance):
        return "handles protected health information (hipaa), and no Business Associate Agreement covers ollama.com"
    return None


def _org_binding(config: Config) -> str | None:
    org = config.org
    residency = Sourced(org.data_residency, None, "org") if org.data_residency is not None else None
    return _binding(residency, tuple(Sourced(c, None, "org") for c in org.compliance))


def _named(config: Config, workspaces: tuple[Workspace, ...]) -> list[Named]:
    """self_hosted.models, then every workspace's models (the organisation's when there is no
    workspace yet), each at the line that names it."""
    from compiler.providers import selfhosted

    found = [
        Named(None, listing, registry.SELF_HOSTED, entry, config.org_doc.position(loc))
        for entry, loc, listing in selfhosted.listed_models(config)  # self_hosted.models and each pool's
        if isinstance(entry, str)
    ]
    if not workspaces:
        llm, doc = config.org.llm_config, config.org_doc
        found.append(Named("", "model", llm.provider, llm.model, doc.position(("llm_config", "model"))))
        for index, fallback in enumerate(llm.fallbacks or ()):
            found.append(Named("", "fallback", fallback.provider, fallback.model, doc.position(("llm_config", "fallbacks", index, "model"))))
        if llm.embeddings is not None:
            found.append(Named("", "embedding model", llm.embeddings.provider, llm.embeddings.model, doc.position(("llm_config", "embeddings", "model"))))
        return found
    sources = {source.name: source for source in config.workspaces}
    for w in workspaces:
        llm, where = w.llm, w.llm_sources
        found.append(Named(w.name, "model", llm.provider, llm.model, _origin(where["model"])))
        for index, fallback in enumerate(llm.fallbacks or ()):
            found.append(Named(w.name, "fallback", fallback.provider, fallback.model, _fallback_at(config, sources.get(w.name), where["fallbacks"], index)))
        if llm.embeddings is not None:
            found.append(Named(w.name, "embedding model", llm.embeddings.provider, llm.embeddings.model, _origin(where["embeddings.model"])))
    return found


def _fallback_at(config: Config, source: WorkspaceSource | None, fallbacks: Sourced, index: int) -> Position:
    """The `model:` of the fallback at `index`, in the file that set the list."""
    if fallbacks.layer == "org":
        return config.org_doc.position(("llm_config", "fallbacks", index, "model"))
    if fallbacks.layer == "workspace" and source is not None:
        return source.doc.position(source.loc + ("llm_override", "fallbacks", index, "model"))
    return _origin(fallbacks)


def _cloud(named: Named, bound: list[tuple[str, str]], day: datetime.date) -> Diagnostic:
    if named.workspace is None:
        subject = f"{named.role} lists '{named.name}', an Ollama cloud model"
    elif named.workspace:
        subject = f"workspace '{named.workspace}': its {named.role} '{named.name}' is an Ollama cloud model"
    else:
        subject = f"the organisation's {named.role} '{named.name}' is an Ollama cloud model"
    leaves = "a request to it leaves the cluster for ollama.com, and hks's Ollama refuses it (OLLAMA_NO_CLOUD=1: HTTP 403)"
    embedding = named.role == "embedding model"
    usual = catalogue.replacements(named.provider, named.name, day, embedding=embedding)
    instead = catalogue.local_counterpart(named.provider, named.name) or (usual or [catalogue.default_model(named.provider)])[0]
    listing = " --embeddings" if embedding else ""
    hint = f"use a model the LLM nodes run themselves, such as {instead} (`hks models --provider {named.provider}{listing}`)"
    if named.workspace is None:
        hint += f", or remove it from {named.role}"
    if not bound:
        return warning(named.at, "CAT-010", f"{subject}: {leaves}, so it cannot answer at all", hint=hint)
    if named.workspace is None:
        whose = "; ".join(f"'{name}' {why}" if name != ORG_DEFAULTS else f"{name} {why}" for name, why in bound[:3])
        whose += f"; and {len(bound) - 3} more" if len(bound) > 3 else ""
        message = f"{subject}: {leaves}, and this Ollama serves workspaces whose data must stay in place ({whose})"
    else:
        holder = "the workspace" if named.workspace else "the organisation"
        message = f"{subject}, but {holder} {bound[0][1]}: {leaves}"
    return error(named.at, "CAT-009", message, hint=hint)


def _check_source(config: Config, loc: tuple[str | int, ...], name: str, source: str) -> list[Diagnostic]:
    """Each LLM node downloads a custom model itself (templates/ollama/fetch-gguf.sh, with curl):
    a path on the author's machine means nothing there, and file:// would read the node's disk."""
    if source.startswith(("https://", "http://")):
        return []
    return [error(
        config.org_doc.position((*loc, "source")),
        "CAT-008",
        f"the source of '{name}' is not an http(s) URL: the LLM nodes download the file themselves, "
        "so a path on this machine cannot reach them",
        hint="upload the file where the nodes can fetch it (an object store, an internal web server, "
        "a Hugging Face repository) and give its https:// URL",
    )]
