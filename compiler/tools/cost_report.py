"""`hks cost` output: each format a pure function of the estimate (and, with `--base`, the
base's estimate) to text, in one table that feeds `--format`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from compiler.tools.cost import HOURS_PER_MONTH, Change, Estimate, PoolCost, WorkspaceCost, compare


def _usd(value: float | None) -> str:
    if value is None:
        return "-"
    sign = "-" if value < -0.005 else ""
    return f"{sign}${abs(value):,.2f}"


def _signed(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) < 0.005:
        return "$0.00"
    return ("+" if value > 0 else "-") + f"${abs(value):,.2f}"


def _percent(value: float | None) -> str:
    if value is None:
        return "-"
    return "0.0%" if abs(value) < 0.05 else f"{value:+.1f}%"


def _requests(w: WorkspaceCost) -> str:
    return "-" if w.requests_per_month is None else f"{w.requests_per_month:,.0f}"


def _model(w: WorkspaceCost) -> str:
    return w.shares[0].label


def _cost(w: WorkspaceCost) -> str:
    if w.requests_per_month is None:
        return "no usage"
    return _usd(w.monthly_usd) if w.monthly_usd is not None else "no price"


def warnings(estimate: Estimate) -> list[str]:
    return [
        f"{w.name}: estimated {_usd(w.monthly_usd)} a month exceeds budget.monthly_usd {_usd(w.budget_usd)}"
        for w in estimate.workspaces
        if w.over_budget
    ]


def _price_lines(estimate: Estimate) -> list[str]:
    lines = []
    for label, price in estimate.prices.items():
        if not price.input and not price.output:
            continue
        lines.append(f"{label}: ${price.input:g} / ${price.output:g} per million input / output tokens, as of {price.as_of} ({price.source})")
    return lines


def _models(base: Estimate, head: Estimate) -> dict[str, str]:
    before = {w.name: _model(w) for w in base.workspaces}
    after = {w.name: _model(w) for w in head.workspaces}
    models = {}
    for name in set(before) | set(after):
        old, new = before.get(name, "-"), after.get(name, "-")
        models[name] = new if old == new else f"{old} → {new}"
    return models


# --- table --------------------------------------------------------------------------------------


def _grid(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return lines


def _pool_nodes(pool: PoolCost) -> str:
    price = f" × ${pool.hourly_usd:.2f}/h" if pool.hourly_usd is not None else " (not priced)"
    return f"{pool.min_replicas}–{pool.max_replicas} node(s){price}"


def _pool_cost(pool: PoolCost) -> str:
    """At min (counted in the total) – at max."""
    if pool.hourly_usd is None:
        return "-"
    return f"{_usd(pool.monthly_min_usd)} – {_usd(pool.monthly_max_usd)}"


def table(estimate: Estimate, base: Estimate | None = None, revision: str = "") -> str:
    if base is not None:
        return _table_change(base, estimate, revision)
    rows = [["WORKSPACE", "MODEL", "REQUESTS/MONTH", "COST/MONTH", "BUDGET", ""]]
    for w in estimate.workspaces:
        rows.append([w.name, _model(w), _requests(w), _cost(w), _usd(w.budget_usd), "OVER BUDGET" if w.over_budget else ""])
    if estimate.nodes:
        nodes = estimate.nodes
        rows.append(["(self-hosted)", f"{nodes.nodes} LLM node(s) × ${nodes.hourly_usd:.2f}/h", "", _usd(nodes.monthly_usd), "", ""])
    for pool in estimate.pools:
        rows.append([f"(pool {pool.name})", _pool_nodes(pool), "", _pool_cost(pool), "", ""])
    rows.append(["TOTAL", "", "", _usd(estimate.total_usd), "", ""])
    if estimate.pools:
        rows.append(["TOTAL AT MAX", "", "", _usd(estimate.total_max_usd), "", ""])
    lines = [f"Monthly LLM cost estimate for {estimate.organization} (USD, {HOURS_PER_MONTH} hours a month)", ""]
    lines += _grid(rows, right={2, 3, 4})
    lines += _notes(estimate)
    return "\n".join(lines) + "\n"


def _table_change(base: Estimate, head: Estimate, revision: str) -> str:
    models = _models(base, head)
    rows = [["WORKSPACE", "MODEL", "PREVIOUS", "NEW", "DIFFERENCE", "CHANGE"]]
    for change in compare(base, head):
        model = models.get(change.name, "")
        rows.append([change.name.upper() if change.name == "total" else change.name, model, _usd(change.previous), _usd(change.new), _signed(change.difference), _percent(change.percent)])
    lines = [f"Monthly LLM cost estimate for {head.organization}: {revision} → working tree (USD, {HOURS_PER_MONTH} hours a month)", ""]
    lines += _grid(rows, right={2, 3, 4, 5})
    lines += _notes(_with_base_prices(head, base))
    return "\n".join(lines) + "\n"


def _notes(estimate: Estimate) -> list[str]:
    lines: list[str] = []
    stale = estimate.stale_prices()
    if stale:
        lines += ["", f"WARNING: {stale}"]
    found = warnings(estimate)
    if found:
        lines += ["", "Warnings:"] + [f"  {w}" for w in found]
    lines += ["", "Assumptions:"] + [f"  - {a}" for a in estimate.assumptions()]
    prices = _price_lines(estimate)
    if prices:
        lines += ["", "Prices:"] + [f"  - {p}" for p in prices]
    return lines


# --- markdown -------------------------------------------------------------------------------------


def markdown(estimate: Estimate, base: Estimate | None = None, revision: str = "") -> str:
    if base is not None:
        return _markdown_change(base, estimate, revision)
    lines = [
        f"### LLM cost estimate: {estimate.organization}",
        "",
        "| Workspace | Model | Requests / month | Cost / month | Budget | |",
        "|---|---|---:|---:|---:|---|",
    ]
    for w in estimate.workspaces:
        flag = "⚠️ over budget" if w.over_budget else ""
        lines.append(f"| {w.name} | `{_model(w)}` | {_requests(w)} | {_cost(w)} | {_usd(w.budget_usd)} | {flag} |")
    if estimate.nodes:
        nodes = estimate.nodes
        lines.append(f"| *self-hosted* | {nodes.nodes} LLM node(s) × ${nodes.hourly_usd:.2f}/h | | {_usd(nodes.monthly_usd)} | | |")
    for pool in estimate.pools:
        lines.append(f"| *pool {pool.name}* | {_pool_nodes(pool)} | | {_pool_cost(pool)} | | |")
    lines.append(f"| **Total** | | | **{_usd(estimate.total_usd)}** | | |")
    if estimate.pools:
        lines.append(f"| Total, pools at max | | | {_usd(estimate.total_max_usd)} | | |")
    lines += _markdown_notes(estimate)
    return "\n".join(lines) + "\n"


def _markdown_change(base: Estimate, head: Estimate, revision: str) -> str:
    models = _models(base, head)
    changes = compare(base, head)
    total = changes[-1]
    lines = [
        f"### LLM cost estimate: {head.organization}",
        "",
        f"Monthly estimate **{_usd(total.new)}**: {_summary(total, revision)}.",
        "",
        "| Workspace | Model | Previous | New | Difference | Change |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for change in changes:
        if change.name == "total":
            lines.append(
                f"| **Total** | | {_usd(change.previous)} | **{_usd(change.new)}** | **{_signed(change.difference)}** | {_percent(change.percent)} |"
            )
            continue
        model = models.get(change.name, "")
        lines.append(
            f"| {change.name} | {model} | {_usd(change.previous)} | {_usd(change.new)} | {_signed(change.difference)} | {_percent(change.percent)} |"
        )
    lines += _markdown_notes(_with_base_prices(head, base))
    return "\n".join(lines) + "\n"


def _with_base_prices(head: Estimate, base: Estimate) -> Estimate:
    """The head's estimate, listing the prices of the base's models too (the ones replaced)."""
    import dataclasses

    return dataclasses.replace(head, prices=dict(sorted({**base.prices, **head.prices}.items())))


def _summary(total: Change, revision: str) -> str:
    difference = total.difference or 0.0
    if abs(difference) < 0.005:
        return f"no change from `{revision}`"
    word = "less" if difference < 0 else "more"
    return f"**{_usd(abs(difference))} {word}** ({_percent(total.percent)}) than `{revision}`"


def _markdown_notes(estimate: Estimate) -> list[str]:
    lines: list[str] = []
    for warning in warnings(estimate) + [s for s in [estimate.stale_prices()] if s]:
        lines += ["", f"> **Warning:** {warning}"]
    lines += ["", "<details><summary>Assumptions and prices</summary>", ""]
    lines += [f"- {a}" for a in estimate.assumptions()]
    lines += [f"- {p}" for p in _price_lines(estimate)]
    lines += ["", "</details>"]
    return lines


# --- json -----------------------------------------------------------------------------------------


def _money(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _pools_json(estimate: Estimate) -> dict[str, Any]:
    """Only with GPU pools, so the JSON of a config without them stays as it was."""
    if not estimate.pools:
        return {}
    pools = [
        {
            "name": p.name,
            "replicas": {"min": p.min_replicas, "max": p.max_replicas},
            "hourly_usd": p.hourly_usd,
            "monthly_usd": {"min": _money(p.monthly_min_usd), "max": _money(p.monthly_max_usd)} if p.hourly_usd is not None else None,
        }
        for p in estimate.pools
    ]
    return {"self_hosted_pools": pools, "total_max_usd": _money(estimate.total_max_usd)}


def _estimate_json(estimate: Estimate) -> dict[str, Any]:
    return {
        "organization": estimate.organization,
        "currency": "USD",
        "hours_per_month": HOURS_PER_MONTH,
        "workspaces": [
            {
                "name": w.name,
                "model": _model(w),
                "requests_per_month": None if w.requests_per_month is None else round(w.requests_per_month),
                "shares": [{"model": s.label, "fraction": s.fraction, "monthly_usd": _money(s.monthly_usd), **({"embedding": True} if s.embedding else {})} for s in w.shares],
                "monthly_usd": _money(w.monthly_usd),
                "budget_usd": w.budget_usd,
                "over_budget": w.over_budget,
            }
            for w in estimate.workspaces
        ],
        "self_hosted_nodes": (
            {"nodes": estimate.nodes.nodes, "hourly_usd": estimate.nodes.hourly_usd, "monthly_usd": _money(estimate.nodes.monthly_usd)}
            if estimate.nodes
            else None
        ),
        **_pools_json(estimate),
        "total_usd": _money(estimate.total_usd),
        "warnings": warnings(estimate) + [s for s in [estimate.stale_prices()] if s],
        "assumptions": estimate.assumptions(),
        "prices": {
            label: {"input_per_million": p.input, "output_per_million": p.output, "as_of": p.as_of, "source": p.source}
            for label, p in estimate.prices.items()
        },
    }


def _change_json(change: Change) -> dict[str, Any]:
    percent = change.percent
    return {
        "name": change.name,
        "previous_usd": _money(change.previous),
        "new_usd": _money(change.new),
        "difference_usd": _money(change.difference),
        "percent": None if percent is None else round(percent, 1),
    }


def as_json(estimate: Estimate, base: Estimate | None = None, revision: str = "") -> str:
    document: dict[str, Any] = {"estimate": _estimate_json(estimate)}
    if base is not None:
        document["base"] = {"revision": revision, "estimate": _estimate_json(base)}
        document["changes"] = [_change_json(c) for c in compare(base, estimate)]
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


FORMATS: dict[str, Callable[..., str]] = {"json": as_json, "markdown": markdown, "table": table}
