"""CRD sets of the test cluster: the project's own or the real upstream ones."""
import functools
import glob
import os

import yaml

# libyaml's parser: the upstream set is about 7 MB of YAML.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT_DIR = os.path.join(os.path.dirname(HERE), "crds")
# shared/ sits beside the clone: <parent>/main (the clone) and <parent>/shared.
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
UPSTREAM_DIR = os.environ.get("ORCHESTRATOR_UPSTREAM_CRDS",
                              os.path.join(os.path.dirname(REPO), "shared", "crds"))

# CRDs the upstream set does not have: always the project's own.
PROJECT_ONLY = {"knativekafkas.operator.serverless.openshift.io"}

# What each flavour serves on top of plain Kubernetes.
OPENSHIFT = [
    "routes.route.openshift.io",
    "ingresses.config.openshift.io",
    "clusterversions.config.openshift.io",
    "subscriptions.operators.coreos.com",
    "operatorgroups.operators.coreos.com",
    "clusterserviceversions.operators.coreos.com",
    "catalogsources.operators.coreos.com",
    "installplans.operators.coreos.com",
]


@functools.lru_cache(maxsize=None)
def _variants(directory):
    """CRD name -> [(file name, document)]: upstream keeps one CRD per release
    branch (backstages-main.yaml, backstages-release-1.7.yaml)."""
    found = {}
    for path in sorted(glob.glob(os.path.join(directory, "**", "*.yaml"), recursive=True)):
        with open(path, encoding="utf-8") as fh:
            for doc in yaml.load_all(fh, Loader=_LOADER):
                if doc and doc.get("kind") == "CustomResourceDefinition":
                    found.setdefault(doc["metadata"]["name"], []).append((os.path.basename(path), doc))
    return found


def _index(directory, variant=None):
    """CRD name -> document; with several files for one CRD, the one whose file
    name contains variant, else the first (main sorts before release-*)."""
    out = {}
    for name, docs in _variants(directory).items():
        picked = [doc for fname, doc in docs if variant and variant in fname]
        out[name] = (picked or [docs[0][1]])[0]
    return out


def source():
    """Which CRD set to load: ORCHESTRATOR_TEST_CRDS=auto|project|upstream."""
    choice = os.environ.get("ORCHESTRATOR_TEST_CRDS", "auto")
    if choice not in ("auto", "project", "upstream"):
        raise SystemExit(f"ORCHESTRATOR_TEST_CRDS must be auto, project or upstream, not {choice!r}")
    if choice == "auto":
        return "upstream" if os.path.isdir(UPSTREAM_DIR) else "project"
    if choice == "upstream" and not os.path.isdir(UPSTREAM_DIR):
        raise SystemExit(f"ORCHESTRATOR_TEST_CRDS=upstream but {UPSTREAM_DIR} does not exist")
    return choice


def sanitize(crd):
    """Make an upstream CRD loadable on a cluster where no operator runs.

    A Webhook conversion points at the operator's Service, which never exists
    here; with several served versions every read of a non-storage version would
    fail, so the conversion block is dropped (strategy None, the default).
    """
    crd = dict(crd)
    crd["spec"] = dict(crd["spec"])
    crd["spec"].pop("conversion", None)
    meta = dict(crd["metadata"])
    # creationTimestamp: null and similar generated noise must not reach the server.
    meta.pop("creationTimestamp", None)
    crd["metadata"] = meta
    crd.pop("status", None)
    return crd


def load(names, which=None, variant=None):
    """The CRD documents for names, from the chosen set (variant: see _index)."""
    which = which or source()
    index = _index(PROJECT_DIR if which == "project" else UPSTREAM_DIR, variant)
    if which != "project":
        # Kinds with no upstream copy (KnativeKafka) come from the project set.
        index = {**{n: d for n, d in _index(PROJECT_DIR).items() if n in PROJECT_ONLY}, **index}
    missing = [n for n in names if n not in index]
    if missing:
        raise SystemExit(f"CRDs missing from the {which} set: {', '.join(missing)}")
    return [sanitize(index[n]) for n in names]


def open_schema(crd):
    """The CRD with the same names and versions but a schema that takes anything.

    For kinds the collection only looks up (ArgoCD: a 2 MB schema that takes
    seconds to install and delete), where validating their fields proves nothing.
    """
    crd = dict(crd)
    crd["spec"] = dict(crd["spec"], versions=[
        {"name": v["name"], "served": v["served"], "storage": v["storage"],
         "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}
        for v in crd["spec"]["versions"]])
    return crd


# Kinds that test scenarios install on demand get an open schema (see open_schema).
OPEN_SCHEMA = {"argocds.argoproj.io"}


def load_on_demand(names):
    """Upstream CRDs a test installs itself (GitOps), open_schema where OPEN_SCHEMA says."""
    return [open_schema(d) if d["metadata"]["name"] in OPEN_SCHEMA else d for d in load(names, "upstream")]


def project_index():
    return _index(PROJECT_DIR)


def upstream_index():
    return _index(UPSTREAM_DIR) if os.path.isdir(UPSTREAM_DIR) else {}


def upstream_variants():
    """CRD name -> every upstream document of it (one per release branch)."""
    return {n: [d for _f, d in docs] for n, docs in _variants(UPSTREAM_DIR).items()} \
        if os.path.isdir(UPSTREAM_DIR) else {}
