"""The project's own JSON Schemas of the custom resources hks emits (schemas/crds/).

Each schema must be a valid draft 2020-12 schema whose `metadata` resolves to the Kubernetes
ObjectMeta of kubernetes-validate, accept a realistic document, and reject documents with an
unknown field, a wrong enum value, a missing required field, a `status`, or a typo. The realistic
documents are also checked against the upstream CRD schemas in tests/builtin/upstream-crds/ (the
datreeio CRDs-catalog layout, copied byte for byte: its README says from where): an independent
cross-check that our schemas are not stricter than the real CRDs on what hks actually writes.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from tests.conftest import ROOT

OURS = ROOT / "schemas" / "crds"
# The upstream CRD schemas the tests check rendered custom resources against (a copy of the files
# hks's output needs, from the catalogue; HKS_UPSTREAM_CRD_SCHEMAS points at another copy).
UPSTREAM = Path(os.environ.get("HKS_UPSTREAM_CRD_SCHEMAS", Path(__file__).with_name("upstream-crds")))
# The whole catalogue copy the project's copy was taken from, where a machine has it.
CATALOGUE = ROOT.parent / "shared" / "crd-schemas"

# kind → (group, file name): our file and the upstream one share the catalogue layout.
KINDS: dict[str, tuple[str, str]] = {
    "ExternalSecret": ("external-secrets.io", "externalsecret_v1.json"),
    "SealedSecret": ("bitnami.com", "sealedsecret_v1alpha1.json"),
    "CiliumNetworkPolicy": ("cilium.io", "ciliumnetworkpolicy_v2.json"),
    "ServiceMonitor": ("monitoring.coreos.com", "servicemonitor_v1.json"),
    "PrometheusRule": ("monitoring.coreos.com", "prometheusrule_v1.json"),
    "Application": ("argoproj.io", "application_v1alpha1.json"),
    "ApplicationSet": ("argoproj.io", "applicationset_v1alpha1.json"),
    "Certificate": ("cert-manager.io", "certificate_v1.json"),
    "Bundle": ("trust.cert-manager.io", "bundle_v1alpha1.json"),
    "PeerAuthentication": ("security.istio.io", "peerauthentication_v1.json"),
    "AuthorizationPolicy": ("security.istio.io", "authorizationpolicy_v1.json"),
    "Server": ("policy.linkerd.io", "server_v1beta3.json"),
    "MeshTLSAuthentication": ("policy.linkerd.io", "meshtlsauthentication_v1alpha1.json"),
    # Linkerd's kind of the same name as Istio's: `kind/qualifier` keys, the kind before the slash.
    "AuthorizationPolicy/linkerd": ("policy.linkerd.io", "authorizationpolicy_v1alpha1.json"),
    "ScaledObject": ("keda.sh", "scaledobject_v1alpha1.json"),
}

# Objects deliberately left open (any content), by the JSON pointer of the schema node.
OPEN_OBJECTS = {
    # Helm values as a map: whatever the chart accepts.
    "/$defs/helm/properties/valuesObject",
    # Parameters passed verbatim to an ApplicationSet plugin generator.
    "/$defs/pluginGenerator/properties/input/properties/parameters",
    # Provider-specific generators hks does not model field by field.
    "/$defs/scmProviderGenerator",
    "/$defs/pullRequestGenerator",
}


@pytest.fixture(scope="module")
def definitions() -> Any:
    from kubernetes_validate.utils import all_versions, latest_version, major_minor, schema_contents

    version = major_minor(str(latest_version()))
    exact = [v for v in all_versions() if major_minor(v) == version][-1]
    return schema_contents(f"kubernetes-json-schema/v{exact}-local-strict/_definitions.json", version)


def ours(kind: str) -> Any:
    group, name = KINDS[kind]
    return json.loads((OURS / group / name).read_text("utf-8"))


def our_validator(kind: str, definitions: Any) -> jsonschema.Draft202012Validator:
    schema = ours(kind)
    registry = Registry().with_resources(
        [("_definitions.json", Resource.from_contents(definitions)), ("", Resource.from_contents(schema))]
    )
    return jsonschema.Draft202012Validator(schema, registry=registry)


def upstream_validator(kind: str) -> Any:
    group, name = KINDS[kind]
    path = UPSTREAM / group / name
    assert path.is_file(), f"{path} is missing from the upstream catalogue copy"
    schema = json.loads(path.read_text("utf-8"))
    # No check_schema here: the catalogue keeps Go regexes (`\PC`, a mid-pattern `(?i)`) that
    # Python's re cannot compile; documents that reach those fields are not used below.
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema)


def errors(validator: Any, document: Any) -> list[str]:
    return [
        f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(document)
    ]


# --- realistic documents ------------------------------------------------------------------------

META = {"name": "gateway", "namespace": "llm-gateway", "labels": {"app.kubernetes.io/managed-by": "hks"}}

VALID: dict[str, dict[str, Any]] = {
    "ExternalSecret": {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": META,
        "spec": {
            "refreshInterval": "1h",
            "refreshPolicy": "Periodic",
            "secretStoreRef": {"name": "vault", "kind": "ClusterSecretStore"},
            "target": {
                "name": "gateway",
                "creationPolicy": "Owner",
                "deletionPolicy": "Retain",
                "immutable": False,
                "template": {
                    "type": "Opaque",
                    "engineVersion": "v2",
                    "mergePolicy": "Replace",
                    "metadata": {"labels": {"app": "gateway"}, "annotations": {"team": "platform"}},
                    "data": {"config.yaml": "api_key: {{ .openai }}"},
                },
            },
            "data": [
                {
                    "secretKey": "openai",
                    "remoteRef": {
                        "key": "llm/providers/openai",
                        "property": "api_key",
                        "conversionStrategy": "Default",
                        "decodingStrategy": "None",
                        "metadataPolicy": "None",
                    },
                },
                {
                    "secretKey": "anthropic",
                    "remoteRef": {"key": "llm/providers/anthropic", "property": "api_key"},
                    "sourceRef": {"storeRef": {"name": "vault-eu", "kind": "SecretStore"}},
                },
            ],
            "dataFrom": [
                {"extract": {"key": "llm/shared"}},
                {
                    "find": {"name": {"regexp": "^llm-"}, "conversionStrategy": "Default"},
                    "rewrite": [{"regexp": {"source": "^llm-(.*)", "target": "$1"}}],
                },
            ],
        },
    },
    "SealedSecret": {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": "gateway-keys", "namespace": "llm-gateway", "creationTimestamp": None},
        "spec": {
            "encryptedData": {"OPENAI_API_KEY": "AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq=="},
            "template": {
                "metadata": {"name": "gateway-keys", "namespace": "llm-gateway", "labels": {"app": "gateway"}},
                "type": "Opaque",
                "immutable": True,
            },
        },
    },
    "CiliumNetworkPolicy": {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {**META, "name": "gateway-fqdn"},
        "spec": {
            "description": "The gateway may reach exactly the provider hosts its workspaces use.",
            "endpointSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}},
            "egress": [
                {
                    "toEndpoints": [
                        {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns"}}
                    ],
                    "toPorts": [
                        {
                            "ports": [{"port": "53", "protocol": "ANY"}],
                            "rules": {"dns": [{"matchName": "api.openai.com"}, {"matchPattern": "*.anthropic.com"}]},
                        }
                    ],
                },
                {
                    "toFQDNs": [{"matchName": "api.openai.com"}, {"matchPattern": "*.anthropic.com"}],
                    "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
                },
                {
                    "toCIDRSet": [{"cidr": "10.0.0.0/8", "except": ["10.96.0.0/12"]}],
                    "toPorts": [{"ports": [{"port": "5432", "endPort": 5433, "protocol": "TCP"}]}],
                },
                {"toEntities": ["kube-apiserver"]},
                {
                    "toServices": [{"k8sService": {"serviceName": "ollama", "namespace": "llm-models"}}],
                    "toPorts": [
                        {
                            "ports": [{"port": "11434", "protocol": "TCP"}],
                            "rules": {"http": [{"method": "POST", "path": "/api/.*"}]},
                        }
                    ],
                },
            ],
            "ingress": [
                {
                    "fromEndpoints": [
                        {"matchExpressions": [{"key": "k8s:io.kubernetes.pod.namespace", "operator": "In", "values": ["ws-a", "ws-b"]}]}
                    ],
                    "toPorts": [{"ports": [{"port": "4000", "protocol": "TCP"}]}],
                },
                {
                    "fromEntities": ["cluster"],
                    "icmps": [{"fields": [{"type": 8, "family": "IPv4"}, {"type": "EchoRequest", "family": "IPv6"}]}],
                },
            ],
            "egressDeny": [{"toCIDR": ["169.254.169.254/32"]}],
            "labels": [{"key": "owner", "value": "hks", "source": "k8s"}],
        },
    },
    "ServiceMonitor": {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": META,
        "spec": {
            "jobLabel": "app.kubernetes.io/name",
            "selector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}},
            "namespaceSelector": {"matchNames": ["llm-gateway"]},
            "targetLabels": ["app.kubernetes.io/instance"],
            "podTargetLabels": ["hks.io/workspace"],
            "sampleLimit": 50000,
            "endpoints": [
                {
                    "port": "metrics",
                    "path": "/metrics",
                    "scheme": "https",
                    "interval": "30s",
                    "scrapeTimeout": "10s",
                    "honorLabels": True,
                    "authorization": {"type": "Bearer", "credentials": {"name": "gateway-metrics", "key": "token"}},
                    "tlsConfig": {
                        "ca": {"configMap": {"name": "gateway-ca", "key": "ca.crt"}},
                        "serverName": "gateway.llm-gateway.svc",
                        "insecureSkipVerify": False,
                    },
                    "relabelings": [
                        {"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node", "action": "replace"}
                    ],
                    "metricRelabelings": [{"sourceLabels": ["__name__"], "regex": "go_.*", "action": "drop"}],
                },
                {
                    "targetPort": 9090,
                    "basicAuth": {"username": {"name": "basic", "key": "user"}, "password": {"name": "basic", "key": "pass"}},
                },
                {"port": "legacy", "bearerTokenSecret": {"name": "legacy-token", "key": "token"}},
            ],
        },
    },
    "PrometheusRule": {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": META,
        "spec": {
            "groups": [
                {
                    "name": "hks-gateway",
                    "interval": "1m",
                    "limit": 100,
                    "rules": [
                        {
                            "alert": "GatewayErrorBudgetBurn",
                            "expr": 'sum(rate(litellm_requests_total{status="error"}[5m])) / sum(rate(litellm_requests_total[5m])) > 0.05',
                            "for": "10m",
                            "keep_firing_for": "5m",
                            "labels": {"severity": "page"},
                            "annotations": {"summary": "More than 5% of LLM requests fail."},
                        },
                        {"record": "hks:gateway_requests:rate5m", "expr": "sum(rate(litellm_requests_total[5m]))"},
                        {"alert": "AlwaysFiring", "expr": 1},
                    ],
                }
            ]
        },
    },
    "Application": {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "hks-llm-platform", "namespace": "argocd", "finalizers": ["resources-finalizer.argocd.argoproj.io"]},
        "spec": {
            "project": "llm-platform",
            "source": {
                "repoURL": "https://git.example.com/platform/llm-config.git",
                "path": "rendered/prod",
                "targetRevision": "main",
                "directory": {"recurse": True, "exclude": "*.md"},
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "llm-gateway"},
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True, "allowEmpty": False},
                "syncOptions": ["CreateNamespace=true", "ServerSideApply=true", "PrunePropagationPolicy=foreground"],
                "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}},
                "managedNamespaceMetadata": {"labels": {"hks.io/managed": "true"}},
            },
            "ignoreDifferences": [
                {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]},
                {"kind": "Secret", "name": "gateway", "jqPathExpressions": [".data.generated"]},
            ],
            "info": [{"name": "Owner", "value": "platform-team"}],
            "revisionHistoryLimit": 5,
        },
    },
    "ApplicationSet": {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": "hks-workspaces", "namespace": "argocd"},
        "spec": {
            "goTemplate": True,
            "goTemplateOptions": ["missingkey=error"],
            "generators": [
                {
                    "matrix": {
                        "generators": [
                            {"clusters": {"selector": {"matchLabels": {"hks.io/llm": "enabled"}}}},
                            {
                                "git": {
                                    "repoURL": "https://git.example.com/platform/llm-config.git",
                                    "revision": "main",
                                    "directories": [{"path": "rendered/workspaces/*"}, {"path": "rendered/workspaces/tmp", "exclude": True}],
                                }
                            },
                        ]
                    }
                },
                {
                    "list": {
                        "elements": [{"workspace": "research", "cluster": "https://kubernetes.default.svc"}],
                    }
                },
                {
                    "merge": {
                        "mergeKeys": ["workspace"],
                        "generators": [
                            {"list": {"elements": [{"workspace": "research", "replicas": "2"}]}},
                            {"list": {"elements": [{"workspace": "research", "replicas": "3"}]}},
                        ],
                    }
                },
            ],
            "template": {
                "metadata": {"name": "ws-{{ .path.basename }}", "labels": {"hks.io/workspace": "{{ .path.basename }}"}},
                "spec": {
                    "project": "llm-platform",
                    "source": {
                        "repoURL": "https://git.example.com/platform/llm-config.git",
                        "targetRevision": "main",
                        "path": "{{ .path.path }}",
                    },
                    "destination": {"server": "{{ .server }}", "namespace": "ws-{{ .path.basename }}"},
                    "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["CreateNamespace=true"]},
                },
            },
            "syncPolicy": {"preserveResourcesOnDeletion": True, "applicationsSync": "create-update"},
            "strategy": {
                "type": "RollingSync",
                "rollingSync": {
                    "steps": [
                        {"matchExpressions": [{"key": "env", "operator": "In", "values": ["staging"]}]},
                        {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}], "maxUpdate": "50%"},
                    ]
                },
            },
        },
    },
    "Certificate": {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": META,
        "spec": {
            "secretName": "llm-gateway-tls",
            "dnsNames": ["llm-gateway", "llm-gateway.hexabase-aiops.svc", "llm-gateway.hexabase-aiops.svc.cluster.local"],
            "usages": ["server auth", "digital signature"],
            "duration": "2160h",
            "renewBefore": "720h0m0s",
            "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always", "encoding": "PKCS8"},
            "subject": {"organizations": ["acme-health"]},
            "secretTemplate": {"labels": {"app.kubernetes.io/part-of": "hks"}},
            "revisionHistoryLimit": 2,
            "issuerRef": {"name": "internal-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"},
        },
    },
    "Bundle": {
        "apiVersion": "trust.cert-manager.io/v1alpha1",
        "kind": "Bundle",
        "metadata": {"name": "hexabase-aiops-ca-bundle", "labels": {"app.kubernetes.io/managed-by": "hks"}},
        "spec": {
            "sources": [
                {"useDefaultCAs": True},
                {"secret": {"name": "internal-ca", "key": "tls.crt"}},
                {"configMap": {"selector": {"matchLabels": {"trust": "extra"}}, "includeAllKeys": True}},
            ],
            "target": {
                "configMap": {"key": "ca-certificates.crt"},
                "namespaceSelector": {"matchLabels": {"hks.dev/organization": "acme-health"}},
            },
        },
    },
    "PeerAuthentication": {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": META,
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}},
            "mtls": {"mode": "STRICT"},
            "portLevelMtls": {"9090": {"mode": "STRICT"}},
        },
    },
    "AuthorizationPolicy": {
        "apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy",
        "metadata": META,
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}},
            "action": "ALLOW",
            "rules": [
                {
                    "from": [
                        {"source": {"principals": ["cluster.local/ns/llm-gateway/sa/gateway"]}},
                        {"source": {"namespaces": ["team-a"], "notIpBlocks": ["10.0.0.0/8"]}},
                    ],
                    "to": [{"operation": {"ports": ["4000"], "methods": ["POST"], "paths": ["/v1/*"]}}],
                    "when": [{"key": "request.headers[x-team]", "values": ["a"]}],
                }
            ],
        },
    },
    "Server": {
        "apiVersion": "policy.linkerd.io/v1beta3",
        "kind": "Server",
        "metadata": META,
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}},
            "port": 4000,
            "proxyProtocol": "HTTP/1",
            "accessPolicy": "deny",
        },
    },
    "MeshTLSAuthentication": {
        "apiVersion": "policy.linkerd.io/v1alpha1",
        "kind": "MeshTLSAuthentication",
        "metadata": META,
        "spec": {
            "identityRefs": [
                {"kind": "ServiceAccount", "name": "gateway", "namespace": "llm-gateway"},
                {"kind": "Namespace", "name": "team-a"},
            ]
        },
    },
    "AuthorizationPolicy/linkerd": {
        "apiVersion": "policy.linkerd.io/v1alpha1",
        "kind": "AuthorizationPolicy",
        "metadata": META,
        "spec": {
            "targetRef": {"group": "policy.linkerd.io", "kind": "Server", "name": "gateway"},
            "requiredAuthenticationRefs": [{"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication", "name": "clients"}],
        },
    },
    "ScaledObject": {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {**META, "name": "ollama-small"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ollama-small"},
            "minReplicaCount": 0,
            "maxReplicaCount": 4,
            "pollingInterval": 15,
            "cooldownPeriod": 900,
            "fallback": {"failureThreshold": 3, "replicas": 1},
            "advanced": {
                "horizontalPodAutoscalerConfig": {
                    "behavior": {"scaleDown": {"stabilizationWindowSeconds": 600, "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}
                }
            },
            "triggers": [
                {
                    "type": "prometheus",
                    "name": "load",
                    "metricType": "AverageValue",
                    "metadata": {
                        "serverAddress": "http://prometheus-operated.monitoring.svc:9090",
                        "query": "sum(rate(litellm_llm_api_latency_metric_sum[2m]))",
                        "threshold": "2",
                        "activationThreshold": "0.5",
                    },
                },
                {"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}},
            ],
        },
    },
}


# --- invalid documents: (kind, why, mutation of the valid document) -----------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list) and int(last) == len(node):
            node.append(value)
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[int(last) if isinstance(node, list) else last]

    return mutate


def _rename(path: str, new: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[new] = node.pop(last)

    return mutate


GENERIC: list[tuple[str, Mutation]] = [
    ("unknown field in spec", _set("spec.unknownField", True)),
    ("status present", _set("status", {"conditions": []})),
    ("spec missing", _delete("spec")),
    ("metadata missing", _delete("metadata")),
    ("unknown top-level field", _set("extra", {})),
    ("unknown metadata field", _set("metadata.labelz", {"a": "b"})),
    ("wrong apiVersion", _set("apiVersion", "example.com/v1")),
    ("wrong kind", _set("kind", "Unknown")),
]

SPECIFIC: list[tuple[str, str, Mutation]] = [
    ("ExternalSecret", "typo refreshIntervall", _rename("spec.refreshInterval", "refreshIntervall")),
    ("ExternalSecret", "refreshInterval not a duration", _set("spec.refreshInterval", "hourly")),
    ("ExternalSecret", "creationPolicy enum", _set("spec.target.creationPolicy", "Owned")),
    ("ExternalSecret", "deletionPolicy enum", _set("spec.target.deletionPolicy", "Keep")),
    ("ExternalSecret", "secretStoreRef.kind enum", _set("spec.secretStoreRef.kind", "VaultStore")),
    ("ExternalSecret", "refreshPolicy enum", _set("spec.refreshPolicy", "Always")),
    ("ExternalSecret", "remoteRef.key missing", _delete("spec.data.0.remoteRef.key")),
    ("ExternalSecret", "secretKey missing", _delete("spec.data.0.secretKey")),
    ("ExternalSecret", "decodingStrategy enum", _set("spec.data.0.remoteRef.decodingStrategy", "base64")),
    ("ExternalSecret", "unknown remoteRef field", _set("spec.data.0.remoteRef.path", "x")),
    ("ExternalSecret", "secretKey with a slash", _set("spec.data.0.secretKey", "a/b")),
    ("ExternalSecret", "two sourceRef kinds", _set("spec.data.1.sourceRef.generatorRef", {"kind": "Password", "name": "pw"})),
    ("ExternalSecret", "rewrite with two operations", _set("spec.dataFrom.1.rewrite.0.transform", {"template": "x"})),
    ("ExternalSecret", "unknown target field", _set("spec.target.owner", "me")),
    ("SealedSecret", "encryptedData missing", _delete("spec.encryptedData")),
    ("SealedSecret", "encryptedData value not a string", _set("spec.encryptedData.OPENAI_API_KEY", 42)),
    ("SealedSecret", "unknown template field", _set("spec.template.stringData", {"a": "b"})),
    ("SealedSecret", "template metadata unknown field", _set("spec.template.metadata.labelz", {})),
    ("SealedSecret", "legacy data not base64", _set("spec.data", "not base64!")),
    ("CiliumNetworkPolicy", "protocol enum", _set("spec.egress.1.toPorts.0.ports.0.protocol", "HTTP")),
    ("CiliumNetworkPolicy", "port as a number", _set("spec.egress.1.toPorts.0.ports.0.port", 443)),
    ("CiliumNetworkPolicy", "port missing", _delete("spec.egress.1.toPorts.0.ports.0.port")),
    ("CiliumNetworkPolicy", "entity enum", _set("spec.egress.3.toEntities.0", "internet")),
    ("CiliumNetworkPolicy", "fqdn with both matchName and matchPattern", _set("spec.egress.1.toFQDNs.0.matchPattern", "*.openai.com")),
    ("CiliumNetworkPolicy", "fqdn typo matchNames", _rename("spec.egress.1.toFQDNs.0.matchName", "matchNames")),
    ("CiliumNetworkPolicy", "dns rule with a bad name", _set("spec.egress.0.toPorts.0.rules.dns.0.matchName", "api openai com")),
    ("CiliumNetworkPolicy", "L7 union with dns and http", _set("spec.egress.0.toPorts.0.rules.http", [{"path": "/"}])),
    ("CiliumNetworkPolicy", "bad CIDR", _set("spec.egressDeny.0.toCIDR.0", "10.0.0.0/33")),
    ("CiliumNetworkPolicy", "selector operator enum", _set("spec.ingress.0.fromEndpoints.0.matchExpressions.0.operator", "Equals")),
    ("CiliumNetworkPolicy", "no selector", _delete("spec.endpointSelector")),
    ("CiliumNetworkPolicy", "both selectors", _set("spec.nodeSelector", {"matchLabels": {"a": "b"}})),
    ("CiliumNetworkPolicy", "toFQDNs in ingress", _set("spec.ingress.0.toFQDNs", [{"matchName": "a.example.com"}])),
    ("CiliumNetworkPolicy", "unknown ICMP type name", _set("spec.ingress.1.icmps.0.fields.1.type", "Ping")),
    ("CiliumNetworkPolicy", "ICMP type out of range", _set("spec.ingress.1.icmps.0.fields.0.type", 300)),
    ("CiliumNetworkPolicy", "fqdn with an empty label", _set("spec.egress.1.toFQDNs.0.matchName", "api..openai.com")),
    ("CiliumNetworkPolicy", "L7 rules in a deny rule", _set("spec.egressDeny.0.toPorts", [{"ports": [{"port": "80"}], "rules": {"http": [{}]}}])),
    ("ServiceMonitor", "endpoints missing", _delete("spec.endpoints")),
    ("ServiceMonitor", "selector missing", _delete("spec.selector")),
    ("ServiceMonitor", "scheme enum", _set("spec.endpoints.0.scheme", "ftp")),
    ("ServiceMonitor", "interval not a duration", _set("spec.endpoints.0.interval", "30 seconds")),
    ("ServiceMonitor", "relabel action enum", _set("spec.endpoints.0.relabelings.0.action", "rename")),
    ("ServiceMonitor", "typo scrapeTimout", _rename("spec.endpoints.0.scrapeTimeout", "scrapeTimout")),
    ("ServiceMonitor", "unknown tlsConfig field", _set("spec.endpoints.0.tlsConfig.verify", False)),
    ("ServiceMonitor", "secret key missing", _delete("spec.endpoints.0.authorization.credentials.key")),
    ("ServiceMonitor", "negative sampleLimit", _set("spec.sampleLimit", -1)),
    ("ServiceMonitor", "namespaceSelector typo", _rename("spec.namespaceSelector.matchNames", "matchName")),
    ("PrometheusRule", "for not a duration", _set("spec.groups.0.rules.0.for", "10 minutes")),
    ("PrometheusRule", "expr missing", _delete("spec.groups.0.rules.0.expr")),
    ("PrometheusRule", "expr a list", _set("spec.groups.0.rules.0.expr", ["up"])),
    ("PrometheusRule", "neither alert nor record", _delete("spec.groups.0.rules.0.alert")),
    ("PrometheusRule", "both alert and record", _set("spec.groups.0.rules.0.record", "x:y")),
    ("PrometheusRule", "group name missing", _delete("spec.groups.0.name")),
    ("PrometheusRule", "typo keep_firing", _rename("spec.groups.0.rules.0.keep_firing_for", "keepFiringFor")),
    ("PrometheusRule", "for on a recording rule", _set("spec.groups.0.rules.1.for", "5m")),
    ("PrometheusRule", "label value not a string", _set("spec.groups.0.rules.0.labels.severity", 1)),
    ("Application", "project missing", _delete("spec.project")),
    ("Application", "destination missing", _delete("spec.destination")),
    ("Application", "repoURL missing", _delete("spec.source.repoURL")),
    ("Application", "typo selfHeall", _rename("spec.syncPolicy.automated.selfHeal", "selfHeall")),
    ("Application", "selfHeal not a boolean", _set("spec.syncPolicy.automated.selfHeal", "true")),
    ("Application", "unknown sync option", _set("spec.syncPolicy.syncOptions.0", "CreateNamspace=true")),
    ("Application", "unknown source field", _set("spec.source.branch", "main")),
    ("Application", "unknown plugin field", _set("spec.source.plugin", {"name": "p", "args": []})),
    ("Application", "destination with server and name", _set("spec.destination.name", "in-cluster")),
    ("Application", "operation present", _set("operation", {"sync": {}})),
    ("Application", "ignoreDifferences without kind", _delete("spec.ignoreDifferences.0.kind")),
    ("ApplicationSet", "generators missing", _delete("spec.generators")),
    ("ApplicationSet", "template missing", _delete("spec.template")),
    ("ApplicationSet", "unknown generator", _set("spec.generators.1", {"lists": {"elements": []}})),
    ("ApplicationSet", "two generators in one entry", _set("spec.generators.1.clusters", {})),
    ("ApplicationSet", "git revision missing", _delete("spec.generators.0.matrix.generators.1.git.revision")),
    ("ApplicationSet", "merge without mergeKeys", _delete("spec.generators.2.merge.mergeKeys")),
    ("ApplicationSet", "applicationsSync enum", _set("spec.syncPolicy.applicationsSync", "create-all")),
    ("ApplicationSet", "strategy type enum", _set("spec.strategy.type", "Canary")),
    ("ApplicationSet", "template project missing", _delete("spec.template.spec.project")),
    ("ApplicationSet", "goTemplateOptions unknown", _set("spec.goTemplateOptions.0", "missingkey=panic")),
    ("ApplicationSet", "matrix with three generators", _set(
        "spec.generators.0.matrix.generators.2", {"list": {"elements": []}}
    )),
    ("ApplicationSet", "merge with one generator", _delete("spec.generators.2.merge.generators.1")),
    ("Certificate", "secretName missing", _delete("spec.secretName")),
    ("Certificate", "issuerRef missing", _delete("spec.issuerRef")),
    ("Certificate", "issuerRef name missing", _delete("spec.issuerRef.name")),
    ("Certificate", "usage enum", _set("spec.usages.0", "server-auth")),
    ("Certificate", "key algorithm enum", _set("spec.privateKey.algorithm", "DSA")),
    ("Certificate", "rotationPolicy enum", _set("spec.privateKey.rotationPolicy", "Sometimes")),
    ("Certificate", "duration not a Go duration", _set("spec.duration", "90 days")),
    ("Certificate", "typo dnsName", _rename("spec.dnsNames", "dnsName")),
    ("Certificate", "unknown issuerRef field", _set("spec.issuerRef.namespace", "cert-manager")),
    ("Bundle", "sources missing", _delete("spec.sources")),
    ("Bundle", "no source", _set("spec.sources", [])),
    ("Bundle", "two kinds in one source", _set("spec.sources.0.inLine", "-----BEGIN CERTIFICATE-----")),
    ("Bundle", "secret source with neither name nor selector", _delete("spec.sources.1.secret.name")),
    ("Bundle", "key and includeAllKeys", _set("spec.sources.1.secret.includeAllKeys", True)),
    ("Bundle", "target key missing", _delete("spec.target.configMap.key")),
    ("Bundle", "a namespace on a cluster-scoped kind", _set("metadata.namespace", "cert-manager")),
    ("Bundle", "selector operator enum", _set("spec.target.namespaceSelector.matchExpressions", [{"key": "a", "operator": "Equals"}])),
    ("PeerAuthentication", "mode enum", _set("spec.mtls.mode", "strict")),
    ("PeerAuthentication", "portLevelMtls without a selector", _delete("spec.selector")),
    ("PeerAuthentication", "portLevelMtls key not a port", _set("spec.portLevelMtls.http", {"mode": "STRICT"})),
    ("PeerAuthentication", "wildcard in a selector", _set("spec.selector.matchLabels.app", "*")),
    ("AuthorizationPolicy", "action enum", _set("spec.action", "allow")),
    ("AuthorizationPolicy", "typo principal", _rename("spec.rules.0.from.0.source.principals", "principal")),
    ("AuthorizationPolicy", "port not a string", _set("spec.rules.0.to.0.operation.ports.0", 4000)),
    ("AuthorizationPolicy", "port not a number", _set("spec.rules.0.to.0.operation.ports.0", "http")),
    ("AuthorizationPolicy", "provider without CUSTOM", _set("spec.provider", {"name": "ext-authz"})),
    ("AuthorizationPolicy", "CUSTOM without provider", _set("spec.action", "CUSTOM")),
    ("AuthorizationPolicy", "selector and targetRef", _set("spec.targetRef", {"kind": "Service", "name": "gateway"})),
    ("AuthorizationPolicy", "condition without key", _delete("spec.rules.0.when.0.key")),
    ("AuthorizationPolicy", "serviceAccounts with namespaces", _set("spec.rules.0.from.1.source.serviceAccounts", ["a/b"])),
    ("Server", "port missing", _delete("spec.port")),
    ("Server", "port out of range", _set("spec.port", 70000)),
    ("Server", "proxyProtocol enum", _set("spec.proxyProtocol", "HTTP/3")),
    ("Server", "accessPolicy enum", _set("spec.accessPolicy", "allow")),
    ("Server", "no selector", _delete("spec.podSelector")),
    ("Server", "both selectors", _set("spec.externalWorkloadSelector", {"matchLabels": {"a": "b"}})),
    ("MeshTLSAuthentication", "identityRef kind enum", _set("spec.identityRefs.0.kind", "Pod")),
    ("MeshTLSAuthentication", "identityRefs and identities", _set("spec.identities", ["*"])),
    ("MeshTLSAuthentication", "empty identityRefs", _set("spec.identityRefs", [])),
    ("MeshTLSAuthentication", "namespace on a Namespace ref", _set("spec.identityRefs.1.namespace", "x")),
    ("AuthorizationPolicy/linkerd", "targetRef missing", _delete("spec.targetRef")),
    ("AuthorizationPolicy/linkerd", "authentication name missing", _delete("spec.requiredAuthenticationRefs.0.name")),
    ("AuthorizationPolicy/linkerd", "typo requiredAuthenticationRef", _rename("spec.requiredAuthenticationRefs", "requiredAuthenticationRef")),
    ("ScaledObject", "scaleTargetRef missing", _delete("spec.scaleTargetRef")),
    ("ScaledObject", "no triggers", _set("spec.triggers", [])),
    ("ScaledObject", "trigger type missing", _delete("spec.triggers.0.type")),
    ("ScaledObject", "metadata value not a string", _set("spec.triggers.0.metadata.threshold", 2)),
    ("ScaledObject", "prometheus without a query", _delete("spec.triggers.0.metadata.query")),
    ("ScaledObject", "prometheus threshold not a number", _set("spec.triggers.0.metadata.threshold", "two")),
    ("ScaledObject", "metricType enum", _set("spec.triggers.0.metricType", "Average")),
    ("ScaledObject", "negative minReplicaCount", _set("spec.minReplicaCount", -1)),
    ("ScaledObject", "typo cooldownPeriods", _rename("spec.cooldownPeriod", "cooldownPeriods")),
    ("ScaledObject", "fallback without replicas", _delete("spec.fallback.replicas")),
    ("ApplicationSet", "matrix nested two levels deep", _set(
        "spec.generators.0.matrix.generators.0",
        {"matrix": {"generators": [{"matrix": {"generators": []}}]}},
    )),
]

INVALID = [(kind, why, mutate) for kind in KINDS for why, mutate in GENERIC] + SPECIFIC


# --- tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_valid_draft_2020_12(kind: str) -> None:
    schema = ours(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    group, _ = KINDS[kind]
    assert schema["properties"]["kind"] == {"const": kind.split("/")[0]}
    assert schema["properties"]["apiVersion"]["const"].startswith(group + "/")
    assert schema["properties"]["metadata"] == {
        "$ref": "_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    }
    assert "status" not in schema["properties"] and schema["additionalProperties"] is False
    assert "$id" not in schema, "an $id would change the base URI of the _definitions.json reference"


def _objects(node: Any, pointer: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object" or (isinstance(node.get("type"), list) and "object" in node["type"]):
            found.append((pointer, node))
        for key, value in node.items():
            found += _objects(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _objects(value, f"{pointer}/{i}")
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_every_object_is_closed(kind: str) -> None:
    """Strict: an object either enumerates its fields and allows no others, or is a typed map."""
    loose = [
        pointer
        for pointer, node in _objects(ours(kind))
        if pointer not in OPEN_OBJECTS
        and not (
            node.get("additionalProperties") is False
            or (isinstance(node.get("additionalProperties"), dict) and "properties" not in node)
        )
    ]
    assert not loose, f"objects without additionalProperties: {loose}"


@pytest.mark.parametrize("kind", KINDS)
def test_valid_example_accepted(kind: str, definitions: Any) -> None:
    assert errors(our_validator(kind, definitions), VALID[kind]) == []


@pytest.mark.parametrize("kind", KINDS)
def test_valid_example_accepted_by_upstream_crd(kind: str) -> None:
    """Independent cross-check: the upstream CRD schema accepts what our schema accepts."""
    assert errors(upstream_validator(kind), VALID[kind]) == []


@pytest.mark.parametrize(("kind", "why", "mutate"), INVALID, ids=[f"{k}-{w}" for k, w, _ in INVALID])
def test_invalid_example_rejected(kind: str, why: str, mutate: Mutation, definitions: Any) -> None:
    document = copy.deepcopy(VALID[kind])
    mutate(document)
    assert errors(our_validator(kind, definitions), document), f"{kind}: {why} was accepted"


def test_hks_rendered_shapes_accepted(definitions: Any) -> None:
    """The shapes hks's templates write today (templates/secrets, templates/gateway, compiler/render/)."""
    external_secret = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "gateway", "namespace": "llm-gateway", "labels": {"app.kubernetes.io/name": "gateway"}},
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"name": "vault", "kind": "ClusterSecretStore"},
            "target": {"name": "gateway", "creationPolicy": "Owner"},
            "data": [{"secretKey": "OPENAI_API_KEY", "remoteRef": {"key": "llm/openai", "property": "api_key"}}],
        },
    }
    cnp = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "gateway-fqdn", "namespace": "llm-gateway", "labels": {"app.kubernetes.io/name": "gateway"}},
        "spec": {
            "description": "The gateway may reach exactly the provider hosts its workspaces use.",
            "endpointSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}},
            "egress": [
                {
                    "toEndpoints": [
                        {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns"}}
                    ],
                    "toPorts": [
                        {"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [{"matchName": "api.openai.com"}]}}
                    ],
                },
                {
                    "toFQDNs": [{"matchName": "api.openai.com"}],
                    "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
                },
            ],
        },
    }
    for document in (external_secret, cnp):
        assert errors(our_validator(document["kind"], definitions), document) == []
        if UPSTREAM.is_dir():
            assert errors(upstream_validator(document["kind"]), document) == []


def test_cilium_specs_list_accepted(definitions: Any) -> None:
    document = copy.deepcopy(VALID["CiliumNetworkPolicy"])
    rule = document.pop("spec")
    document["specs"] = [rule, {"endpointSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]}]
    assert errors(our_validator("CiliumNetworkPolicy", definitions), document) == []
    document["specs"][1]["ingres"] = []
    assert errors(our_validator("CiliumNetworkPolicy", definitions), document)


def test_kubeseal_output_accepted(definitions: Any) -> None:
    """kubeseal writes `creationTimestamp: null` in both metadata blocks; ObjectMeta allows it.

    (The catalogue's upstream schema rejects it in spec.template.metadata: the real CRD keeps
    unknown fields there, x-kubernetes-preserve-unknown-fields, which the catalogue turned into
    additionalProperties: false. No cross-check for this one.)
    """
    document = copy.deepcopy(VALID["SealedSecret"])
    document["spec"]["template"]["metadata"]["creationTimestamp"] = None
    assert errors(our_validator("SealedSecret", definitions), document) == []


def test_metadata_reference_resolves_for_every_kubernetes_version() -> None:
    """hks validates against every Kubernetes version kubernetes-validate ships."""
    from kubernetes_validate.utils import all_versions, major_minor, schema_contents

    for version in sorted({major_minor(v) for v in all_versions()}):
        exact = [v for v in all_versions() if major_minor(v) == version][-1]
        definitions = schema_contents(f"kubernetes-json-schema/v{exact}-local-strict/_definitions.json", version)
        validator = our_validator("ExternalSecret", definitions)
        assert errors(validator, VALID["ExternalSecret"]) == [], version
        bad = copy.deepcopy(VALID["ExternalSecret"])
        bad["metadata"]["nmae"] = "typo"
        assert errors(validator, bad), version


def test_the_upstream_copy_is_the_catalogues_byte_for_byte() -> None:
    """Every copied file equals the catalogue's (where a machine has the catalogue copy), and every
    kind the checks above name is in the copy."""
    copied = sorted(p.relative_to(UPSTREAM) for p in UPSTREAM.rglob("*.json"))
    assert {Path(group) / name for group, name in KINDS.values()} <= set(copied)
    if CATALOGUE.is_dir():
        for path in copied:
            assert (UPSTREAM / path).read_bytes() == (CATALOGUE / path).read_bytes(), path
