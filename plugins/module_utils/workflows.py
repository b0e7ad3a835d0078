# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the workflows role decides, as plain functions (unit tested without a cluster).

- ``plan``: checks ``workflows_list`` and returns one message per failed rule, naming the
  variable and the item (``workflows_list[1].version: ...``), plus the items with every
  default filled in, including the SonataFlow ``spec.persistence`` each one gets.
- ``prerequisite_errors``: the database Secret of each workflow must be in its namespace.
- ``documents``: the objects of a manifests workflow, in the item's namespace, with its persistence.
- ``patch``: the server-side apply body that puts a Helm-installed SonataFlow's persistence
  right, or None when the live object already has it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

API_VERSION = "sonataflow.org/v1alpha08"
KIND = "SonataFlow"
# The label that records what the collection installed (the same one the manifest module uses).
MARKER = {"orchestrator.rhdh.redhat.com/installed-by": "rhdh.orchestrator"}
RELEASE_NAME = "meta.helm.sh/release-name"
RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# The operator names a Service after the workflow: a DNS-1035 label (it starts with a letter).
SERVICE_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
SCHEMA = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
VERSION = re.compile(r"^v?([0-9]+)\.([0-9]+)\.([0-9]+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
REPO_URL = re.compile(r"^(https?|oci)://\S+$")

COMMON_KEYS = ("name", "namespace", "timeout", "schema", "persistence")
HELM_KEYS = ("chart", "repo_url", "version", "values", "release_name")
MANIFEST_KEYS = ("manifests",)
# Kinds a workflow's manifests may not hold: they are not namespaced, or not the workflow's to own.
REFUSED_KINDS = ("Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
                 "PersistentVolume", "StorageClass", "SonataFlowClusterPlatform",
                 "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


class WorkflowError(Exception):
    """A workflow whose objects cannot be made right; the message says which and why."""


def _where(index, key=None):
    return "workflows_list[{0}]{1}".format(index, "." + key if key else "")


def _positive_int(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit() and int(value) > 0:
        return int(value)
    return None


def _text(value):
    """A scalar as the string the user meant (YAML reads version 1.6 as a float)."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    return str(value).strip()


def chart_name(ref):
    """greeting for greeting, repo/greeting, oci://host/path/greeting or ./greeting-1.6.0.tgz."""
    base = str(ref).rstrip("/").rsplit("/", maxsplit=1)[-1]
    if base.endswith(".tgz"):
        base = base[:-4]
        match = re.match(r"^(.*?)-v?[0-9]+\.[0-9]+\.[0-9]+.*$", base)
        if match:
            base = match.group(1)
    return base.split(":")[0]


def supported_lines(table, chart, rhdh_version):
    """The chart lines ("1.6", ...) the table supports with rhdh_version; None when the chart is not in it."""
    rows = (table or {}).get(chart)
    if rows is None:
        return None
    return [str(row["line"]) for row in rows if str(rhdh_version) in [str(r) for r in row.get("rhdh", [])]]


def version_supported(version, lines):
    match = VERSION.match(version or "")
    if not match:
        return False
    return "{0}.{1}".format(match.group(1), match.group(2)) in lines


def persistence_spec(namespace, schema, pg):
    """spec.persistence of a workflow in namespace with its own schema in the shared database.

    serviceRef.namespace is always given: the operator resolves a missing one to the
    workflow's own namespace, which is wrong whenever the database lives elsewhere.
    """
    return {"postgresql": {
        "secretRef": {"name": pg["secret_name"], "userKey": pg["user_key"], "passwordKey": pg["password_key"]},
        "serviceRef": {"name": pg["service_name"], "namespace": pg["service_namespace"] or namespace,
                       "port": _positive_int(pg["port"]) or pg["port"], "databaseName": pg["database"],
                       "databaseSchema": schema},
    }}


def _check_documents(index, name, docs):
    """Messages for the parsed documents of one manifests item."""
    errors = []
    flows = []
    for pos, doc in enumerate(docs):
        if not isinstance(doc, dict):
            errors.append("{0}: document {1} is not a mapping".format(_where(index, "manifests"), pos))
            continue
        missing = [f for f in ("apiVersion", "kind") if not doc.get(f)]
        if not (doc.get("metadata") or {}).get("name"):
            missing.append("metadata.name")
        if missing:
            errors.append("{0}: document {1} ({2}) lacks {3}".format(
                _where(index, "manifests"), pos, doc.get("kind", "?"), ", ".join(missing)))
            continue
        if doc["kind"] in REFUSED_KINDS:
            errors.append("{0}: document {1} is a {2}; a workflow's manifests hold only objects of its namespace "
                          "(SonataFlow, ConfigMap, Secret, ...)".format(_where(index, "manifests"), pos, doc["kind"]))
        if doc["kind"] == KIND:
            flows.append(doc["metadata"]["name"])
    if flows != [name] and not errors:
        errors.append("{0}: must hold exactly one SonataFlow, named {1} like the item (found: {2})".format(
            _where(index, "manifests"), name, ", ".join(flows) or "none"))
    return errors


def _check_item(index, item, defaults, files):
    """(errors, normalized item or None) for one entry of workflows_list."""
    if not isinstance(item, dict):
        return ["{0}: must be a mapping with name and either chart or manifests (got {1})".format(
            _where(index), type(item).__name__)], None
    errors = []
    unknown = sorted(set(item) - set(COMMON_KEYS + HELM_KEYS + MANIFEST_KEYS))
    if unknown:
        errors.append("{0}: unknown key(s) {1} (known: {2})".format(
            _where(index), ", ".join(unknown), ", ".join(COMMON_KEYS + HELM_KEYS + MANIFEST_KEYS)))
    name = _text(item.get("name")) or ""
    if not SERVICE_NAME.match(name) or len(name) > 63:
        errors.append("{0}: must be a DNS label of at most 63 characters starting with a letter, the SonataFlow's "
                      "name (got '{1}')".format(_where(index, "name"), item.get("name", "")))
    namespace = _text(item.get("namespace")) or defaults["namespace"]
    if not DNS_LABEL.match(namespace) or len(namespace) > 63:
        errors.append("{0}: must be a DNS label (got '{1}')".format(
            _where(index, "namespace") if item.get("namespace") else "workflows_namespace", namespace))
    timeout = _positive_int(item.get("timeout", defaults["timeout"]))
    if timeout is None:
        errors.append("{0}: must be a positive number of seconds (got '{1}')".format(
            _where(index, "timeout") if "timeout" in item else "workflows_wait_timeout",
            item.get("timeout", defaults["timeout"])))
    schema = _text(item.get("schema")) or name
    if "schema" in item and (not SCHEMA.match(schema) or len(schema) > 63):
        errors.append("{0}: must be a PostgreSQL schema name of letters, digits, _ and - (got '{1}')".format(
            _where(index, "schema"), item.get("schema")))
    if not isinstance(item.get("persistence", True), bool):
        errors.append("{0}: must be true or false (got '{1}')".format(
            _where(index, "persistence"), item.get("persistence")))
    helm = [k for k in HELM_KEYS if k in item]
    has_chart, has_manifests = "chart" in item, "manifests" in item
    persistence = item.get("persistence", True)
    out = {"index": index, "name": name, "namespace": namespace, "timeout": timeout, "schema": schema,
           "persistence": persistence if isinstance(persistence, bool) else True}
    if has_chart == has_manifests:
        errors.append("{0}: give either chart (a Helm chart, with version) or manifests (files with the SonataFlow), "
                      "{1}".format(_where(index), "not both" if has_chart else "none is given"))
    elif has_manifests and helm:
        errors.append("{0}: {1} belong(s) to a Helm chart; a manifests workflow takes none of them".format(
            _where(index), ", ".join(helm)))
    elif has_chart:
        out.update(_check_helm(index, item, defaults, name, errors))
    else:
        out.update(_check_manifests(index, item, files, name, errors))
    return errors, out


def _check_helm(index, item, defaults, name, errors):
    chart = _text(item.get("chart")) or ""
    if not chart:
        errors.append("{0}: must be a chart reference: a name in repo_url, oci://..., or a path (got '{1}')".format(
            _where(index, "chart"), item.get("chart", "")))
    version = _text(item.get("version")) or ""
    if not VERSION.match(version):
        errors.append("{0}: the chart version to install, pinned (semantic version such as 1.6.0), is required "
                      "(got '{1}')".format(_where(index, "version"), item.get("version", "")))
    repo_url = _text(item.get("repo_url")) or ""
    if "repo_url" in item and not REPO_URL.match(repo_url):
        errors.append("{0}: must be an http(s):// or oci:// URL (got '{1}')".format(
            _where(index, "repo_url"), item.get("repo_url")))
    if chart.startswith("oci://") and repo_url:
        errors.append("{0}: an oci:// chart takes no repo_url".format(_where(index, "repo_url")))
    values = item.get("values", {})
    if values is None:
        values = {}
    if not isinstance(values, dict):
        errors.append("{0}: must be a mapping of chart values (got {1})".format(
            _where(index, "values"), type(values).__name__))
        values = {}
    release = _text(item.get("release_name")) or name
    if not DNS_LABEL.match(release) or len(release) > 53:
        errors.append("{0}: must be a DNS label of at most 53 characters, a Helm release name (got '{1}')".format(
            _where(index, "release_name") if "release_name" in item else _where(index, "name"), release))
    cname = chart_name(chart) if chart else ""
    if defaults.get("state", "present") == "present" and chart and VERSION.match(version) \
            and not defaults.get("skip_version_check"):
        lines = supported_lines(defaults.get("table"), cname, defaults.get("rhdh_version"))
        if lines is not None and not version_supported(version, lines):
            errors.append(
                "{0}: chart {1} {2} of workflow {3} is not supported with RHDH {4} (supported: {5}); "
                "pick a supported version or set workflows_skip_version_check to install it anyway".format(
                    _where(index, "version"), cname, version, name, defaults.get("rhdh_version"),
                    ", ".join(line + ".x" for line in lines) or "none"))
    return {"source": "helm", "chart": chart, "chart_name": cname, "version": version, "repo_url": repo_url,
            "values": values, "release_name": release}


def _check_manifests(index, item, files, name, errors):
    paths = item.get("manifests")
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p for p in paths):
        errors.append("{0}: must be a non-empty list of file paths".format(_where(index, "manifests")))
        return {"source": "manifests", "manifests": [], "documents": []}
    docs, unread = [], []
    if files is not None:
        for path in paths:
            got = files.get(path, "not read")
            if isinstance(got, str):  # the reader's message
                unread.append("{0}: {1}: {2}".format(_where(index, "manifests"), path, got))
            else:
                docs.extend(d for d in got if d is not None)
        errors.extend(unread or _check_documents(index, name, docs))
    return {"source": "manifests", "manifests": list(paths), "documents": docs}


def plan(items, defaults, pg, files=None):
    """(errors, items, paths) for workflows_list.

    defaults: namespace, timeout, state, rhdh_version, skip_version_check, table (chart support).
    pg: the database settings (secret_name, user_key, password_key, service_name, service_namespace, port,
    database). files: path -> list of parsed documents, or a message when the file could not be read; None
    before the files are read (paths then lists the files to read).
    """
    if not isinstance(items, list):
        return ["workflows_list: must be a list of workflows (got {0})".format(type(items).__name__)], [], []
    errors, out, paths = [], [], []
    for index, item in enumerate(items):
        errs, norm = _check_item(index, item, defaults, files)
        errors.extend(errs)
        if norm is None:
            continue
        if norm["persistence"]:
            norm["persistence_spec"] = persistence_spec(norm["namespace"], norm["schema"], pg)
        out.append(norm)
        for path in norm.get("manifests", []):
            if path not in paths:
                paths.append(path)
    seen, releases = {}, {}
    for norm in out:
        key = (norm["namespace"], norm["name"])
        if key in seen:
            errors.append("{0}: workflow {1} in namespace {2} is already {3}".format(
                _where(norm["index"], "name"), norm["name"], norm["namespace"], _where(seen[key])))
        seen.setdefault(key, norm["index"])
        if norm.get("source") == "helm":
            rkey = (norm["namespace"], norm["release_name"])
            if rkey in releases:
                errors.append("{0}: Helm release {1} in namespace {2} is already {3}".format(
                    _where(norm["index"], "release_name"), norm["release_name"], norm["namespace"],
                    _where(releases[rkey])))
            releases.setdefault(rkey, norm["index"])
    return errors, out, paths


def _secret_keys(results):
    """k8s_info results of the database Secret, looped over namespaces -> namespace: its data keys, or None."""
    out = {}
    for res in results or []:
        found = res.get("resources") or []
        out[res.get("item")] = sorted(set(found[0].get("data") or {}) | set(found[0].get("stringData") or {})) \
            if found else None
    return out


def _helm_errors(releases, helm_binary):
    errors = []
    for res in releases or []:
        # Looped with failed_when false: a failure shows as a message (a found release has status instead).
        if not (res.get("failed") or (res.get("msg") and not res.get("status"))):
            continue
        msg = " ".join(str(res.get("msg", "")).split())
        item = res.get("item") or {}
        if any(text in msg for text in ("required executable", "No such file", "Error executing command")):
            return ["workflows_helm_binary: Helm ('{0}') cannot be run ({1}); install Helm 3 where the play runs its "
                    "tasks (README: Requirements) or set workflows_helm_binary to its path".format(helm_binary, msg)]
        errors.append("{0}: Helm cannot look up release {1} in namespace {2}: {3}".format(
            _where(item.get("index", "?")), item.get("release_name"), item.get("namespace"), msg))
    return errors


def prerequisite_errors(items, secret_results, pg, flows, releases, helm_binary="helm"):
    """Messages for what stops the workflows from being installed, before anything is changed.

    secret_results: k8s_info of the database Secret, looped over the workflows' namespaces. flows: k8s_info of
    SonataFlows, looped over workflows (api_found tells whether the CRD is served; a chart workflow's must belong
    to its release). releases: helm_info results (failed_when false), which tell whether helm runs.
    """
    errors = []
    if any(not res.get("api_found", True) for res in flows or []):
        errors.append("the SonataFlow API ({0}) is not served: install the SonataFlow operator first (role "
                      "rhdh.orchestrator.sonataflow)".format(API_VERSION))
    errors.extend(_helm_errors(releases, helm_binary))
    secrets, seen = _secret_keys(secret_results), set()
    for item in items:
        if not item.get("persistence"):
            continue
        if item["namespace"] in seen:
            continue
        seen.add(item["namespace"])
        keys = secrets.get(item["namespace"])
        if keys is None:
            errors.append(
                "Secret {0} does not exist in namespace {1}, where workflow {2} ({3}) needs it for its database "
                "credentials: copy it there (the role rhdh.orchestrator.workflow_namespace does, for the namespaces "
                "in workflow_namespace_namespaces) or set workflows_postgres_secret_name to the Secret the namespace "
                "has".format(pg["secret_name"], item["namespace"], item["name"], _where(item["index"])))
            continue
        lacking = [k for k in (pg["user_key"], pg["password_key"]) if k not in keys]
        if lacking:
            errors.append("Secret {0}/{1} lacks the key(s) {2} that workflow {3} reads (workflows_postgres_user_key, "
                          "workflows_postgres_password_key)".format(item["namespace"], pg["secret_name"],
                                                                    ", ".join(lacking), item["name"]))
    for res in flows or []:
        item = res.get("item") or {}
        live = (res.get("resources") or [None])[0]
        if item.get("source") != "helm" or live is None:
            continue
        # Helm 3 annotates every object of a release with the release's name and namespace.
        notes = (live.get("metadata") or {}).get("annotations") or {}
        if (notes.get(RELEASE_NAME), notes.get(RELEASE_NAMESPACE)) != (item["release_name"], item["namespace"]):
            errors.append("SonataFlow {0}/{1} exists outside Helm release {2} ({3}): the role does not take over a "
                          "workflow installed otherwise; remove it, or give the entry another name".format(
                              item["namespace"], item["name"], item["release_name"], _where(item["index"])))
    return errors


def documents(item, marker=None):
    """The item's documents in its namespace, the SonataFlow with the item's persistence."""
    out = []
    for doc in item.get("documents", []):
        body = copy.deepcopy(doc)
        body.setdefault("metadata", {})["namespace"] = item["namespace"]
        if marker:
            body["metadata"]["labels"] = dict(body["metadata"].get("labels") or {}, **marker)
        if body.get("kind") == KIND and item.get("persistence_spec"):
            spec = body.setdefault("spec", {})
            persistence = dict(spec.get("persistence") or {})
            persistence["postgresql"] = copy.deepcopy(item["persistence_spec"]["postgresql"])
            spec["persistence"] = persistence
        out.append(body)
    return out


def _subset(want, have):
    if isinstance(want, dict):
        return isinstance(have, dict) and all(_subset(v, have.get(k)) for k, v in want.items())
    return want == have


def patch(live, item, installed_now, marker=None):
    """The server-side apply body for a Helm-installed SonataFlow, or None when nothing is to change.

    Only the fields the role owns: spec.persistence.postgresql (when the item has persistence) and the
    marker label when the collection installed the release (installed_now: in this run; before: the live
    object carries the label already). Raises WorkflowError when the chart
    gives a JDBC URL: the CRD allows secretRef plus one of jdbcUrl or serviceRef, and the chart's own
    field cannot be taken away by another field manager.
    """
    marker = MARKER if marker is None else marker
    meta = live.get("metadata") or {}
    labels = meta.get("labels") or {}
    pg_live = (((live.get("spec") or {}).get("persistence") or {}).get("postgresql")) or {}
    want = item.get("persistence_spec")
    if want and pg_live.get("jdbcUrl"):
        raise WorkflowError(
            "SonataFlow {0}/{1} (workflow {2}, {3}) sets persistence.postgresql.jdbcUrl; the role sets serviceRef "
            "and the CRD takes only one of them: set persistence: false on the item to keep the chart's "
            "JDBC URL".format(item["namespace"], item["name"], item["name"], _where(item["index"])))
    carried = all(labels.get(k) == v for k, v in marker.items())
    ours = installed_now or carried
    label_ok = carried or not ours
    if label_ok and (not want or _subset(want["postgresql"], pg_live)):
        return None
    body = {"apiVersion": API_VERSION, "kind": KIND,
            "metadata": {"name": item["name"], "namespace": item["namespace"]}}
    if ours:
        body["metadata"]["labels"] = dict(marker)
    if want:
        body["spec"] = {"persistence": copy.deepcopy(want)}
    return body


def carries_marker(obj, marker=None):
    marker = MARKER if marker is None else marker
    labels = ((obj or {}).get("metadata") or {}).get("labels") or {}
    return all(labels.get(k) == v for k, v in marker.items())


def removal(items, flows, marker=None):
    """What removal takes away. items: the workflows; flows: k8s_info of the chart workflows' SonataFlows (at
    least one lookup: api_found tells whether the SonataFlow API is served).

    releases: chart workflows whose SonataFlow carries the marker (the collection installed the release);
    flows: their SonataFlows (apiVersion, kind, name, namespace), and timeout: the longest of their timeouts.
    manifests: manifests workflows (the manifest module deletes only their marked objects); without the
    SonataFlow API their SonataFlow cannot exist any more, so only the other documents are left to delete.
    kept: what stays, and why.
    """
    marker = MARKER if marker is None else marker
    served = all(res.get("api_found", True) for res in flows or [])
    live = {}
    for res in flows or []:
        index = (res.get("item") or {}).get("index")
        live[index] = (res.get("resources") or [None])[0]
    out = {"releases": [], "flows": [], "timeout": 0, "manifests": [], "kept": []}
    for item in items or []:
        if item.get("source") == "manifests":
            if not served:
                item = dict(item, documents=[d for d in item.get("documents", []) if d.get("kind") != KIND])
            out["manifests"].append(item)
            continue
        what = "Helm release {0} in namespace {1} (workflow {2})".format(
            item.get("release_name"), item.get("namespace"), item.get("name"))
        if not served:
            out["kept"].append("{0} was kept: the SonataFlow API is not served, so whether the collection installed "
                               "it cannot be told".format(what))
            continue
        obj = live.get(item.get("index"))
        if obj is None:
            continue
        if carries_marker(obj, marker):
            out["releases"].append(item)
            out["flows"].append({"apiVersion": API_VERSION, "kind": KIND,
                                 "metadata": {"name": item["name"], "namespace": item["namespace"]}})
            out["timeout"] = max(out["timeout"], item.get("timeout") or 0)
        else:
            out["kept"].append("{0} was kept: its SonataFlow does not carry {1}, so the collection did not install "
                               "it".format(what, ", ".join("{0}={1}".format(k, v) for k, v in sorted(marker.items()))))
    return out


def preexisting_messages(flows, marker=None):
    """Chart workflows whose Helm release existed before the collection: their SonataFlow, read before the
    install, does not carry the marker."""
    out = []
    for res in flows or []:
        item = res.get("item") or {}
        live = (res.get("resources") or [None])[0]
        if item.get("source") == "helm" and live is not None and not carries_marker(live, marker):
            out.append("Helm release {0} in namespace {1} (workflow {2}) existed before the collection: it is "
                       "upgraded to what the entry says, and removal keeps it".format(
                           item.get("release_name"), item.get("namespace"), item.get("name")))
    return out


def knative(items):
    """namespace/name of the manifests workflows whose SonataFlow is deployed as a Knative Service."""
    out = []
    for item in items or []:
        for doc in item.get("documents", []):
            model = ((doc.get("spec") or {}).get("podTemplate") or {}).get("deploymentModel")
            if doc.get("kind") == KIND and model == "knative":
                out.append("{0}/{1}".format(item["namespace"], item["name"]))
    return out
