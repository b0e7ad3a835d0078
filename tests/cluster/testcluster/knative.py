"""The real Knative Operator of the test cluster (knative.dev/operator, built by `build`).

`build` puts the binary and two directories of upstream data from the module
into <bin>/knative-operator.d/: `kodata/` (the Knative Serving, Eventing and
ingress manifests the operator applies; its KO_DATA_PATH) and `config/` (the
operator's own CRDs, RBAC, ConfigMaps and Deployments). The release manifest
the test cluster serves as `knative-operator.yaml` is assembled from
`config/` the way upstream's release is (ko resolves config/, namespace
knative-operator); its Deployments run as KWOK pods while the binary itself
runs as a local process (sim/knative_operator.py).
"""
import glob
import os

import yaml

# The Knative release the module's manifests carry (kodata/knative-serving/1.15.x).
RELEASE = "1.15.2"
IMAGE_REPO = "gcr.io/knative-releases/knative.dev/operator/cmd"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def home(bin_dir):
    """<bin>/knative-operator.d, or None when this build has no Knative Operator."""
    path = os.path.join(bin_dir, "knative-operator.d")
    return path if os.path.isfile(os.path.join(path, "knative-operator")) else None


def _load(path):
    with open(path, encoding="utf-8") as fh:
        return [d for d in yaml.load_all(fh, Loader=_LOADER) if d]


def _kustomize_resources(directory):
    """The files a kustomization.yaml lists, in its order."""
    kust = _load(os.path.join(directory, "kustomization.yaml"))[0]
    return [os.path.join(directory, r) for r in kust.get("resources", [])]


def _resolve(doc, namespace):
    """What ko and kustomize do to a config doc: images, version labels, namespace."""
    text = yaml.dump(doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper))
    text = text.replace("ko://knative.dev/operator/cmd/", f"{IMAGE_REPO}/").replace(
        "app.kubernetes.io/version: devel", f"app.kubernetes.io/version: {RELEASE}")
    for image in ("operator", "webhook"):
        text = text.replace(f"{IMAGE_REPO}/{image}\n", f"{IMAGE_REPO}/{image}:v{RELEASE}\n")
    doc = yaml.load(text, Loader=_LOADER)
    scoped = doc["kind"] not in ("Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding")
    if scoped:
        doc["metadata"]["namespace"] = namespace
    for subject in doc.get("subjects") or []:
        if subject.get("kind") == "ServiceAccount":
            subject["namespace"] = namespace
    return doc


def release_documents(op_home, namespace="knative-operator"):
    """The operator's release manifest: namespace, CRDs, RBAC, operator, webhook."""
    config = os.path.join(op_home, "config")
    files = [os.path.join(config, "000-namespace.yaml")]
    files += sorted(glob.glob(os.path.join(config, "crd", "bases", "*.yaml")))
    for part in ("rbac", "manager", "webhook"):
        files += _kustomize_resources(os.path.join(config, part))
    docs = []
    for path in files:
        docs += [_resolve(d, namespace) for d in _load(path)]
    return docs


def config_maps(op_home, namespace):
    """config-logging and config-observability as the manifest ships them."""
    manager = os.path.join(op_home, "config", "manager")
    docs = []
    for name in ("config-logging-configmap.yaml", "config-observability-configmap.yaml"):
        docs += [_resolve(d, namespace) for d in _load(os.path.join(manager, name))]
    return docs


def command(op_home, kubeconfig, namespace):
    """argv and environment of the operator process, as its Deployment runs it.

    `--disable-ha`: one replica with no leader election, so a restarted
    process reconciles at once instead of waiting out the old lease (60s)."""
    argv = [os.path.join(op_home, "knative-operator"), f"--kubeconfig={kubeconfig}", "--disable-ha"]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "POD_NAME": "knative-operator-local",
        "SYSTEM_NAMESPACE": namespace,
        "METRICS_DOMAIN": "knative.dev/operator",
        "CONFIG_LOGGING_NAME": "config-logging",
        "CONFIG_OBSERVABILITY_NAME": "config-observability",
        "KUBERNETES_MIN_VERSION": "",
        "KO_DATA_PATH": os.path.join(op_home, "kodata"),
        # In its own network namespace anyway (testcluster.netns); keep the
        # metrics server on loopback there too.
        "METRICS_PROMETHEUS_HOST": "127.0.0.1",
    }
    return argv, env
