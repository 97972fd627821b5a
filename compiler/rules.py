"""Every rule id hks itself reports (policy packs bring their own), with a one-line title.

Reporters use the titles for SARIF rule metadata and JUnit test names; the table is the
registry, so an id is added here before it is used. Titles of the built-in policy packs' rules
come from the packs (SEC-001 is both: the pack reports it when the config can be evaluated).
"""

RULES: dict[str, str] = {
    "YAML-001": "YAML syntax error",
    "YAML-002": "duplicate key",
    "YAML-003": "tab character used for indentation",
    "YAML-004": "file is not valid UTF-8",
    "YAML-005": "file is empty",
    "YAML-006": "top level is not a mapping",
    "YAML-007": "more nodes than the node limit (a large file, or aliases: an alias bomb)",
    "YAML-008": "file is larger than the size limit",
    "YAML-009": "nesting deeper than the depth limit",
    "YAML-010": "more than one YAML document in a file",
    "YAML-011": "string longer than the length limit",
    "YAML-012": "number that is not finite or does not fit in 64 bits",
    "REPO-001": "org.yaml is missing",
    "REPO-002": "workspace name disagrees with its file name",
    "REPO-003": "workspace defined twice",
    "REPO-004": "too many workspace files",
    "SCHEMA-001": "unknown key",
    "SCHEMA-002": "value has the wrong type",
    "SCHEMA-003": "value out of range",
    "SCHEMA-004": "required key missing",
    "SCHEMA-005": "value not allowed",
    "SCHEMA-006": "value has the wrong format",
    "SCHEMA-015": "policy rule pattern RE2 cannot run (backreference, lookaround)",
    "MERGE-001": "workspace widens the organisation's data residency",
    "MERGE-002": "required key set to null in an override",
    "CAT-001": "model not in the catalogue",
    "CAT-002": "max_tokens above the model's output limit",
    "CAT-003": "model offered by another provider",
    "CAT-004": "model retired by its provider",
    "CAT-005": "model retiring within 90 days",
    "CAT-006": "setting the model refuses",
    "CAT-007": "self-hosted model tag not pinned",
    "CAT-008": "custom model source is not a URL the nodes can fetch",
    "SEC-001": "plaintext secret in the config",
    "CAP-001": "self-hosted model does not fit the GPU memory",
    "CAP-002": "self-hosted models cannot all stay loaded",
    "REPO-005": "namespace used twice",
    "REPO-006": "more workspaces than the limit",
    "REPO-007": "rendered folder inside one of the config's own folders",
    "K8S-001": "Kubernetes version without schemas",
    "K8S-010": "workspace member that means anyone (system:anonymous, system:unauthenticated)",
    "ARGO-001": "Argo CD Application name longer than a tracking label",
    "ARGO-002": "two Argo CD Applications with one name or tracking label",
    "GW-001": "gateway replicas: min above max",
    "GW-002": "audit log the gateway cannot keep",
    "GW-003": "limit counted per gateway replica or lost on restart",
    "GW-004": "budget on a model that costs nothing",
    "GW-005": "Azure OpenAI without endpoint or API version",
    "GW-006": "provider endpoint is not a usable URL",
    "GW-008": "on-premises workspace with a self-hosted server outside the cluster",
    "GW-009": "limit counted per fallback alias",
    "GW-010": "image release with a known advisory",
    "GW-011": "image release that cannot be checked against advisories",
    "GW-012": "rate limit too small for the replicas to share exactly",
    "GW-017": "URL on a link-local or cloud metadata address",
    "SEC-002": "referenced Secret has no SealedSecret",
    "SEC-003": "malformed or mis-scoped SealedSecret",
    "SEC-004": "external-secrets backend without a store",
    "POLICY-001": "policy pack does not match the pack schema",
    "POLICY-002": "policy rule condition is not a valid JSON Schema",
    "POLICY-003": "policy rule id used twice",
    "POLICY-004": "policy rule cannot be evaluated",
    "WAIVER-001": "waiver expired",
    "WAIVER-002": "waiver matches no finding",
    "WAIVER-003": "waiver names an unknown rule",
    "WAIVER-004": "waiver for a rule that cannot be waived",
    "WAIVER-005": "waivers file does not match its schema",
}


def title(rule: str) -> str:
    if rule in RULES:
        return RULES[rule]
    from compiler.packs import builtin_rules

    return next((r.title for r in builtin_rules()[0] if r.id == rule), rule)
