"""Operator release manifests of the kubernetes flavour, served on loopback.

On plain Kubernetes the roles install the Knative Operator and the SonataFlow
operator from a release manifest URL with a checksum. The test cluster writes
stand-ins for those manifests (the operator's CRDs from the chosen CRD set, its
namespace, ServiceAccount, RBAC and Deployment; the simulators then act as the
operator) and serves them from an HTTP server bound to 127.0.0.1.
`manifests.json` in the cluster's state dir gives each one's URL, local path
and sha256.

The RHDH operator has one manifest per release, `rhdh-operator-<v>.yaml`
(keys `rhdh-operator-<v>` in manifests.json): the real upstream
`rhdh-operator/<v>/dist/install.yaml` bytes when the upstream data is there
(testcluster/upstream.py), else the stand-in with image tag :<v>. Key
`rhdh-operator` is the newest release's.
"""
import hashlib
import json
import os

import yaml

from . import crds, knative, upstream

OPERATORS = {
    # Since knative-v1.14 the operator runs in namespace knative-operator. With
    # the real operator built, its manifest is upstream's (testcluster/knative.py).
    "knative-operator": {
        "namespace": "knative-operator", "create_namespace": True, "deployment": "knative-operator",
        "image": "gcr.io/knative-releases/knative.dev/operator/cmd/operator:v1.15.2",
        "crds": ["knativeservings.operator.knative.dev", "knativeeventings.operator.knative.dev"],
        "groups": ["operator.knative.dev"],
    },
    "sonataflow-operator": {
        "namespace": "sonataflow-operator-system", "create_namespace": True,
        "deployment": "sonataflow-operator-controller-manager",
        "image": "quay.io/kubesmarts/incubator-kie-sonataflow-operator:main",
        "crds": ["sonataflowplatforms.sonataflow.org", "sonataflowclusterplatforms.sonataflow.org",
                 "sonataflows.sonataflow.org"],
        "groups": ["sonataflow.org"],
    },
    # eventing-kafka-broker: the Kafka broker control plane (controller) and
    # data plane (receiver), applied into the KnativeEventing namespace.
    "eventing-kafka-controller": {
        "namespace": "knative-eventing", "create_namespace": False, "deployment": "kafka-controller",
        "image": "gcr.io/knative-releases/knative.dev/eventing-kafka-broker/control-plane/cmd/kafka-controller:v1.15.0",
        "crds": [], "groups": ["eventing.knative.dev"],
    },
    "eventing-kafka-broker": {
        "namespace": "knative-eventing", "create_namespace": False, "deployment": "kafka-broker-receiver",
        "image": "gcr.io/knative-releases/knative.dev/eventing-kafka-broker/data-plane/receiver:v1.15.0",
        "crds": [], "groups": ["eventing.knative.dev"],
    },
    # The RHDH operator's plain-Kubernetes install (rhdh-operator-<version>.yaml).
    "rhdh-operator": {
        "namespace": "rhdh-operator", "create_namespace": True, "deployment": "rhdh-operator",
        "image": "quay.io/rhdh/rhdh-rhel9-operator:1.9",
        "crds": ["backstages.rhdh.redhat.com"],
        "groups": ["rhdh.redhat.com"],
    },
}


def documents(name, which):
    op = OPERATORS[name]
    ns, dep = op["namespace"], op["deployment"]
    docs = []
    if op["create_namespace"]:
        docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    docs += crds.load(op["crds"], which)
    labels = {"app.kubernetes.io/name": dep}
    docs += [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": dep, "namespace": ns}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": dep},
         "rules": [{"apiGroups": op["groups"], "resources": ["*"], "verbs": ["*"]},
                   {"apiGroups": ["", "apps"], "resources": ["deployments", "statefulsets", "services",
                                                             "configmaps", "secrets"],
                    "verbs": ["*"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": dep},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": dep},
         "subjects": [{"kind": "ServiceAccount", "name": dep, "namespace": ns}]},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": dep, "namespace": ns, "labels": labels},
         "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels},
                               "spec": {"serviceAccountName": dep,
                                        "containers": [{"name": "manager", "image": op["image"]}]}}}},
    ]
    return docs


def _dump(docs):
    return yaml.dump_all(docs, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False).encode()


def rhdh_release_bytes(release, which):
    """The RHDH operator install manifest of one release: upstream's bytes, or the stand-in."""
    path = upstream.install_yaml(release)
    if path:
        with open(path, "rb") as fh:
            return fh.read()
    docs = documents("rhdh-operator", which)
    for doc in docs:
        if doc["kind"] == "Deployment":
            spec = doc["spec"]["template"]["spec"]
            spec["containers"][0]["image"] = OPERATORS["rhdh-operator"]["image"].rsplit(":", 1)[0] + ":" + release
    return _dump(docs)


def _entry(directory, base_url, file_name, data, op):
    path = os.path.join(directory, "manifests", file_name)
    with open(path, "wb") as fh:
        fh.write(data)
    return {"url": f"{base_url}/{file_name}", "path": path, "sha256": hashlib.sha256(data).hexdigest(),
            "namespace": op["namespace"], "deployment": op["deployment"]}


def write(directory, which, base_url, knative_home=None):
    """Write every manifest into directory; return the index (also saved as manifests.json)."""
    os.makedirs(os.path.join(directory, "manifests"), exist_ok=True)
    index = {}
    for name, op in OPERATORS.items():
        if name == "rhdh-operator":
            for release in upstream.RELEASES:
                index[f"{name}-{release}"] = _entry(directory, base_url, f"{name}-{release}.yaml",
                                                    rhdh_release_bytes(release, which), op)
            index[name] = dict(index[f"{name}-{upstream.RELEASES[-1]}"])
            continue
        docs = knative.release_documents(knative_home) if name == "knative-operator" and knative_home \
            else documents(name, which)
        index[name] = _entry(directory, base_url, f"{name}.yaml", _dump(docs), op)
    with open(os.path.join(directory, "manifests.json"), "w", encoding="utf-8") as fh:
        json.dump(index, fh, indent=2)
    return index
