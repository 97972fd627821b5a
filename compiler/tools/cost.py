"""`hks cost`: an estimate of the monthly LLM spend, per workspace and in total.

Pure: takes the compiled config and returns values; `commands/cost.py` prints them. Prices come
from the catalogue (`catalogue/models.yaml`, USD per million tokens with a source and a date);
the rendered gateway config carries the same prices (`render/litellm_config.py`, `_prices`), so the gateway's own
spend tracking and this estimate agree. Decisions (docs/cost.md):

- a month is 730 hours (365 × 24 / 12), as cloud price calculators count it;
- a workspace with fallbacks sends `fallback_share` of its requests to its first fallback and
  the rest to its primary model (the share is an assumption and is printed as one);
- self-hosted models cost nothing per token; the LLM nodes cost `self_hosted.gpu.hourly_usd` ×
  `self_hosted.nodes` × 730, shown as one shared line, not spread over the workspaces; with GPU
  pools, each pool is a line of its own at its min replicas (in the total) and its max (one node
  per pod, the pool's `gpu.hourly_usd`);
- a workspace without a `usage:` block is listed, not estimated.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from compiler.builtin import catalogue
from compiler.builtin.catalogue import Price, token_price
from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.providers import registry

HOURS_PER_MONTH = 730
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
DEFAULT_FALLBACK_SHARE = 0.05
STALE_PRICE_DAYS = 183  # six months


@dataclass(frozen=True)
class Share:
    """Part of a workspace's traffic that one model serves."""

    provider: str
    model: str
    fraction: float  # of the chat requests (1.0 for the embedding model)
    monthly_usd: float | None  # None: the catalogue has no price for the model
    embedding: bool = False  # the embedding model: priced per embedded token

    @property
    def label(self) -> str:
        return f"{self.provider}/{self.model}"


@dataclass(frozen=True)
class WorkspaceCost:
    name: str
    requests_per_month: float | None  # None: no usage block
    shares: tuple[Share, ...]
    budget_usd: float | None
    embedding_notes: tuple[str, ...] = ()

    @property
    def estimated(self) -> bool:
        return self.requests_per_month is not None and all(s.monthly_usd is not None for s in self.shares)

    @property
    def monthly_usd(self) -> float | None:
        if not self.estimated:
            return None
        return sum(s.monthly_usd or 0.0 for s in self.shares)

    @property
    def over_budget(self) -> bool:
        cost = self.monthly_usd
        return cost is not None and self.budget_usd is not None and cost > self.budget_usd


@dataclass(frozen=True)
class NodesCost:
    nodes: int
    hourly_usd: float

    @property
    def monthly_usd(self) -> float:
        return self.nodes * self.hourly_usd * HOURS_PER_MONTH


@dataclass(frozen=True)
class PoolCost:
    """A GPU pool (`self_hosted.pools`): one node per pod, priced at its min and max replicas."""

    name: str
    min_replicas: int
    max_replicas: int
    hourly_usd: float | None  # None: the pool's gpu.hourly_usd is not set

    @property
    def monthly_min_usd(self) -> float:
        return self.min_replicas * (self.hourly_usd or 0.0) * HOURS_PER_MONTH

    @property
    def monthly_max_usd(self) -> float:
        return self.max_replicas * (self.hourly_usd or 0.0) * HOURS_PER_MONTH


@dataclass(frozen=True)
class Estimate:
    organization: str
    workspaces: tuple[WorkspaceCost, ...]
    nodes: NodesCost | None
    fallback_share: float
    prices: dict[str, Price] = field(default_factory=dict)  # "provider/model" → price used
    day: datetime.date | None = None  # the day the prices' age is judged on
    unpriced_nodes: int = 0  # LLM nodes serving models without self_hosted.gpu.hourly_usd
    pools: tuple[PoolCost, ...] = ()  # with self_hosted.pools, in place of `nodes`

    def stale_prices(self) -> str | None:
        """A warning when the oldest price used is more than six months old."""
        dates = [datetime.date.fromisoformat(p.as_of) for p in self.prices.values() if p.as_of]
        if not dates or self.day is None or (self.day - min(dates)).days <= STALE_PRICE_DAYS:
            return None
        oldest = min(dates)
        return (
            f"prices are {(self.day - oldest).days} days old (as of {oldest.isoformat()}), more than six months: "
            "the providers' prices may have changed; update hks, or its catalogue (scripts/update_catalogue.py)"
        )

    @property
    def total_usd(self) -> float:
        """The pools counted at their min replicas: what runs whatever the load."""
        total = sum(w.monthly_usd or 0.0 for w in self.workspaces) + sum(p.monthly_min_usd for p in self.pools)
        return total + (self.nodes.monthly_usd if self.nodes else 0.0)

    @property
    def total_max_usd(self) -> float:
        """The total with every pool at its max replicas."""
        return self.total_usd + sum(p.monthly_max_usd - p.monthly_min_usd for p in self.pools)

    def assumptions(self) -> list[str]:
        notes = [f"a month is {HOURS_PER_MONTH} hours ({DAYS_PER_MONTH:.2f} days)"]
        for w in self.workspaces:
            if w.requests_per_month is None:
                notes.append(f"{w.name}: no usage: block, so not estimated")
                continue
            chat = [s for s in w.shares if not s.embedding]
            if len(chat) > 1:
                parts = ", ".join(f"{s.fraction:.0%} to {s.label}" for s in chat)
                notes.append(f"{w.name}: {parts} (fallback share {self.fallback_share:g})")
            notes += [f"{w.name}: {note}" for note in w.embedding_notes]
            for s in w.shares:
                if s.monthly_usd is None:
                    notes.append(f"{w.name}: no price in the catalogue for {s.label}")
        if self.nodes:
            notes.append(
                f"self-hosted: {self.nodes.nodes} LLM node(s) at ${self.nodes.hourly_usd:.2f} an hour, "
                "always on, shared by the self-hosted workspaces"
            )
        for pool in self.pools:
            if pool.hourly_usd is None:
                notes.append(
                    f"self-hosted: pool {pool.name} ({pool.min_replicas} to {pool.max_replicas} node(s)) not priced "
                    "(no gpu.hourly_usd in the pool), so the total leaves it out"
                )
            else:
                notes.append(
                    f"self-hosted: pool {pool.name}, one node per pod at ${pool.hourly_usd:.2f} an hour: "
                    f"{pool.min_replicas} node(s) always on (counted in the total), up to {pool.max_replicas} at peak"
                )
        if self.pools:
            notes.append(f"with every pool at its max replicas the total is ${self.total_max_usd:,.2f}")
        if self.unpriced_nodes:
            notes.append(
                f"self-hosted: {self.unpriced_nodes} LLM node(s) not priced (no self_hosted.gpu.hourly_usd), "
                "so the total leaves out the GPU nodes"
            )
        return notes


def estimate(config: Config, workspaces: tuple[Workspace, ...], fallback_share: float = DEFAULT_FALLBACK_SHARE) -> Estimate:
    from compiler.providers import selfhosted

    prices: dict[str, Price] = {}
    costs = []
    for workspace in workspaces:
        costs.append(_workspace(workspace, fallback_share, prices))
    nodes, unpriced = None, 0
    hosted = config.org.self_hosted
    pools = tuple(
        PoolCost(p.name, p.replicas.min, p.replicas.max, p.hosted.gpu.hourly_usd) for p in selfhosted.served_pools(config)
    )
    if pools:
        pass  # each pool is priced on its own
    elif hosted and selfhosted.served_models(config, workspaces):
        if hosted.gpu.hourly_usd is not None:
            nodes = NodesCost(hosted.nodes, hosted.gpu.hourly_usd)
        else:
            unpriced = hosted.nodes
    return Estimate(
        config.organization, tuple(costs), nodes, fallback_share, dict(sorted(prices.items())), catalogue.today(), unpriced, pools
    )


def _workspace(workspace: Workspace, fallback_share: float, prices: dict[str, Price]) -> WorkspaceCost:
    llm = workspace.llm
    targets = [(llm.provider, llm.model)]
    if llm.fallbacks:
        targets.append((llm.fallbacks[0].provider, llm.fallbacks[0].model))
    fractions = [1.0] if len(targets) == 1 else [1.0 - fallback_share, fallback_share]
    usage = workspace.usage
    requests = usage.requests_per_day * DAYS_PER_MONTH if usage else None
    shares = []
    for (provider, model), fraction in zip(targets, fractions, strict=True):
        price = token_price(provider, model)
        if price is not None:
            prices[f"{provider}/{model}"] = price
        monthly = None
        if usage is not None and requests is not None and price is not None:
            per_request = (usage.input_tokens * price.input + usage.output_tokens * price.output) / 1_000_000
            monthly = requests * fraction * per_request
        shares.append(Share(provider, model, fraction, monthly))
    embedding, notes = _embedding_share(workspace, prices)
    budget = llm.budget.monthly_usd if llm.budget else None
    return WorkspaceCost(workspace.name, requests, tuple(shares) + embedding, budget, notes)


def _embedding_share(workspace: Workspace, prices: dict[str, Price]) -> tuple[tuple[Share, ...], tuple[str, ...]]:
    """The embedding model's part: `usage.embedding_tokens_per_day` at its input price."""
    embeddings, usage = workspace.llm.embeddings, workspace.usage
    if embeddings is None or usage is None or not registry.get(embeddings.provider).commercial:
        return (), ()  # self-hosted: the nodes' cost is counted once, for every model
    label = f"{embeddings.provider}/{embeddings.model}"
    tokens = usage.embedding_tokens_per_day
    if tokens is None:
        return (), (f"embeddings ({label}) not estimated: no usage.embedding_tokens_per_day",)
    price = token_price(embeddings.provider, embeddings.model)
    if price is not None:
        prices[label] = price
    monthly = None if price is None else tokens * DAYS_PER_MONTH * price.input / 1_000_000
    note = f"{tokens:,} tokens a day embedded with {label}"
    return (Share(embeddings.provider, embeddings.model, 1.0, monthly, embedding=True),), (note,)


@dataclass(frozen=True)
class Change:
    """One line of `--base`: a workspace (or the shared nodes, or the total) before and after."""

    name: str
    previous: float | None
    new: float | None

    @property
    def difference(self) -> float | None:
        if self.previous is None and self.new is None:
            return None
        return (self.new or 0.0) - (self.previous or 0.0)

    @property
    def percent(self) -> float | None:
        if not self.previous or self.difference is None:
            return None
        return self.difference / self.previous * 100


def compare(base: Estimate, head: Estimate) -> list[Change]:
    before = {w.name: w.monthly_usd for w in base.workspaces}
    after = {w.name: w.monthly_usd for w in head.workspaces}
    changes = [Change(name, before.get(name), after.get(name)) for name in sorted(set(before) | set(after))]
    if base.nodes or head.nodes:
        changes.append(
            Change(
                "(self-hosted nodes)",
                base.nodes.monthly_usd if base.nodes else None,
                head.nodes.monthly_usd if head.nodes else None,
            )
        )
    before_pools = {p.name: p.monthly_min_usd for p in base.pools}
    after_pools = {p.name: p.monthly_min_usd for p in head.pools}
    for name in sorted(set(before_pools) | set(after_pools)):
        changes.append(Change(f"(pool {name})", before_pools.get(name), after_pools.get(name)))
    changes.append(Change("total", base.total_usd, head.total_usd))
    return changes
