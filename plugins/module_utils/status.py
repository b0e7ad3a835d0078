# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What playbooks/status.yml reads and how it judges it.

checks() turns the roles' settings (the same variable names as the roles and
playbooks/site.yml use) into the objects to read, one kubernetes.core.k8s_info
call each; report() turns what those calls found into the status table:
whether each object is ready, the version found and the version the RHDH
release matrix (releases.py) expects. Readiness follows the upstream wait
commands (orchestrator-facts.md 1.5): operators and Data Index / Jobs Service
rolled out, KnativeServing/KnativeEventing Ready, SonataFlowPlatform Succeed,
Backstage Deployed, workflows Running.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.rhdh.orchestrator.plugins.module_utils.kube import conditions_text
from ansible_collections.rhdh.orchestrator.plugins.module_utils.releases import differences, release
from ansible_collections.rhdh.orchestrator.plugins.module_utils.rollout import desired_replicas, progress

COMPONENTS = ("postgres", "serverless", "sonataflow", "rhdh", "workflow_namespace", "gitops", "workflows")
COLUMNS = ("component", "namespace", "object", "ready", "version", "expected", "note")

_OLM = "operators.coreos.com/v1alpha1"
_KNATIVE = "operator.knative.dev/v1beta1"
_SONATAFLOW = "sonataflow.org/v1alpha08"


def _truthy(value):
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "y", "on", "1")
    return bool(value)


def _check(component, api_version, kind, name=None, namespace=None, probe="exists", **extra):
    out = {"component": component, "api_version": api_version, "kind": kind, "name": name,
           "namespace": namespace, "probe": probe}
    out.update(extra)
    return out


def _operator(component, s, prefix, platform):
    """The operator of a component: a Subscription and its CSV through OLM, else a Deployment."""
    if platform == "openshift":
        ns, package = s[prefix + "_operator_namespace"], s[prefix + "_operator_package"]
        return [_check(component, _OLM, "Subscription", None, ns, "olm", package=package, versions=prefix),
                _check(component, _OLM, "ClusterServiceVersion", None, ns, "companion")]
    return [_check(component, "apps/v1", "Deployment", s[prefix + "_k8s_operator_deployment"],
                   s[prefix + "_k8s_operator_namespace"], "workload", versions=prefix)]


def checks(settings):
    """The objects to read, in table order, for the components in settings['components'].

    settings: the roles' variables by their own names (postgres_namespace,
    rhdh_name, ...), plus platform (openshift or kubernetes) and components
    (the names to check). Each check is one k8s_info call: api_version, kind,
    name (None: list the namespace), namespace, and how to judge it (probe).
    """
    s = settings
    platform = s.get("platform") or "kubernetes"
    wanted = list(s.get("components") or COMPONENTS)
    out = []
    if "postgres" in wanted:
        if _truthy(s["postgres_deploy"]):
            out.append(_check("postgres", "apps/v1", "StatefulSet", s["postgres_service_name"], s["postgres_namespace"],
                              "workload", image=s.get("postgres_image")))
        out.append(_check("postgres", "v1", "Service", s["postgres_service_name"], s["postgres_service_namespace"]))
    if "serverless" in wanted:
        out += _operator("serverless", s, "serverless", platform)
        out.append(_check("serverless", _KNATIVE, "KnativeServing", s["serverless_knative_serving_name"],
                          s["serverless_knative_serving_namespace"], "condition", condition="Ready"))
        out.append(_check("serverless", _KNATIVE, "KnativeEventing", s["serverless_knative_eventing_name"],
                          s["serverless_knative_eventing_namespace"], "condition", condition="Ready"))
    if "sonataflow" in wanted:
        ns, platform_name = s["sonataflow_namespace"], s["sonataflow_platform_name"]
        out += _operator("sonataflow", s, "sonataflow", platform)
        out.append(_check("sonataflow", _SONATAFLOW, "SonataFlowPlatform", platform_name, ns, "condition",
                          condition="Succeed"))
        for key, suffix in (("sonataflow_data_index_enabled", "data-index-service"),
                            ("sonataflow_jobs_service_enabled", "jobs-service")):
            if _truthy(s.get(key, True)):
                out.append(_check("sonataflow", "apps/v1", "Deployment", "{0}-{1}".format(platform_name, suffix), ns,
                                  "workload"))
        if _truthy(s.get("sonataflow_cluster_platform_enabled", False)):
            out.append(_check("sonataflow", _SONATAFLOW, "SonataFlowClusterPlatform", s["sonataflow_cluster_platform_name"],
                              None, "condition", condition="Succeed"))
    if "rhdh" in wanted:
        row = release(s.get("rhdh_version"))
        ns, name = s["rhdh_namespace"], s["rhdh_name"]
        if _truthy(s.get("rhdh_install", True)):
            out += _operator("rhdh", s, "rhdh", platform)
        out.append(_check("rhdh", "apiextensions.k8s.io/v1", "CustomResourceDefinition", "backstages.rhdh.redhat.com",
                          None, "crd"))
        out.append(_check("rhdh", "rhdh.redhat.com/" + row["backstage_api_version"], "Backstage", name, ns, "condition",
                          condition="Deployed"))
        kind = (s.get("rhdh_deployment_kind") or "Deployment") if _truthy(s.get("rhdh_install", True)) else "Deployment"
        out.append(_check("rhdh", "apps/v1", kind, "backstage-" + name, ns, "workload"))
    if "workflow_namespace" in wanted:
        for ns in s.get("workflow_namespace_namespaces") or []:
            out.append(_check("workflow_namespace", "v1", "Namespace", ns, None, "namespace"))
    if "gitops" in wanted:
        out.append(_check("gitops", "argoproj.io/v1alpha1", "AppProject", s["gitops_app_project_name"],
                          s["gitops_app_project_namespace"]))
        if _truthy(s.get("gitops_tekton_enabled", True)):
            out.append(_check("gitops", "tekton.dev/v1", "Pipeline", s.get("gitops_pipeline_name") or "workflow-deployment",
                              s["gitops_namespace"]))
    if "workflows" in wanted:
        for flow in s.get("workflows_list") or []:
            out.append(_check("workflows", _SONATAFLOW, "SonataFlow", flow["name"],
                              flow.get("namespace") or s["workflows_namespace"], "condition", condition="Running"))
    return out


# ---- judging what was found ---------------------------------------------------

def _tag(image):
    """The tag (or digest) of an image reference; the whole reference when it has none."""
    if not image:
        return ""
    if "@" in image:
        return image.rsplit("@", 1)[1][:19]
    last = image.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else image


def _image(workload):
    containers = (((workload.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    return containers[0].get("image", "") if containers else ""


def _condition(obj, ctype):
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond
    return None


def _workload(obj):
    if desired_replicas(obj) == 0:
        return False, "scaled to 0 replicas"
    done, text = progress(obj)
    return done, "" if done else text


def _by_condition(obj, ctype):
    cond = _condition(obj, ctype)
    if cond is not None and cond.get("status") == "True":
        return True, ""
    return False, "{0} is not True: {1}".format(ctype, conditions_text(obj))


def _expected_versions(settings, which):
    """(expected text, differences list builder) of the matrix for an operator or the CRD."""
    if which == "rhdh":
        row = release(settings.get("rhdh_version"))
        return "RHDH {0} ({1})".format(row["version"], row["operator_channel"]), row["version"]
    if which == "sonataflow":
        row = release(settings.get("sonataflow_rhdh_version") or settings.get("rhdh_version"))
        return row["logic_operator_starting_csv"], row["version"]
    return "", None


def _version_notes(settings, which, found, platform):
    """Sentences on how the found version differs from the release matrix."""
    expected, version = _expected_versions(settings, which)
    if version is None or not found:
        return expected, []
    if which == "rhdh":
        return expected, differences(version, {"operator_csv": found})
    if which == "sonataflow" and platform == "openshift":
        return expected, differences(version, {"logic_operator_csv": found})
    return "", []  # the upstream SonataFlow operator on Kubernetes has no matrix entry


def _olm_row(check, found, companion, settings, platform):
    subs = [s for s in found if (s.get("spec") or {}).get("name") == check["package"]]
    if not subs:
        return None
    sub = subs[0]
    meta, status = sub["metadata"], sub.get("status") or {}
    obj = "Subscription/{0}".format(meta["name"])
    csv_name = status.get("installedCSV") or ""
    resolution = _condition(sub, "ResolutionFailed")
    if resolution is not None and resolution.get("status") == "True":
        return obj, False, csv_name, "ResolutionFailed: {0}".format(resolution.get("message") or resolution.get("reason"))
    if not csv_name:
        return obj, False, "", "no installed CSV yet (state {0})".format(status.get("state") or "unknown")
    csvs = [c for c in companion if c["metadata"]["name"] == csv_name]
    if not csvs:
        return obj, False, csv_name, "CSV {0} is not in {1}".format(csv_name, meta["namespace"])
    phase = (csvs[0].get("status") or {}).get("phase") or "Unknown"
    if phase != "Succeeded":
        return obj, False, csv_name, "CSV {0} is {1}: {2}".format(csv_name, phase, (csvs[0].get("status") or {}).get("message", ""))
    return obj, True, csv_name, ""


def _judge(check, result, companion, settings, platform):
    """A row dict for one check and what its k8s_info call returned."""
    found = list((result or {}).get("resources") or [])
    served = (result or {}).get("api_found", True)
    name = check.get("name")
    obj_text = "{0}/{1}".format(check["kind"], name) if name else check["kind"]
    where = check.get("namespace") or (name if check["kind"] == "Namespace" else "")
    row = {"component": check["component"], "namespace": where, "object": obj_text,
           "ready": False, "version": "", "expected": "", "note": "", "found": False, "version_ok": True}
    if not served:
        row["note"] = "the API {0} {1} is not served".format(check["api_version"], check["kind"])
        return row
    if check["probe"] == "olm":
        judged = _olm_row(check, found, companion, settings, platform)
        if judged is None:
            row["object"] = "Subscription (package {0})".format(check["package"])
            row["note"] = "missing"
            return row
        row["object"], row["ready"], row["version"], row["note"] = judged
        row["found"] = True
    else:
        if not found:
            row["note"] = "missing"
            return row
        obj = found[0]
        row["found"] = True
        probe = check["probe"]
        if probe == "workload":
            row["ready"], row["note"] = _workload(obj)
            row["version"] = _tag(_image(obj))
        elif probe == "condition":
            row["ready"], row["note"] = _by_condition(obj, check["condition"])
            row["version"] = str((obj.get("status") or {}).get("version") or "")
        elif probe == "namespace":
            phase = (obj.get("status") or {}).get("phase") or "Active"
            row["ready"], row["note"] = phase == "Active", "" if phase == "Active" else "phase " + phase
        elif probe == "crd":
            served_versions = [v["name"] for v in (obj.get("spec") or {}).get("versions") or [] if v.get("served")]
            wanted = release(settings.get("rhdh_version"))
            row["version"], row["expected"] = ", ".join(served_versions), wanted["backstage_api_version"]
            diffs = differences(wanted["version"], {"backstage_api_versions": served_versions})
            row["ready"], row["version_ok"] = True, not diffs
            row["note"] = "; ".join(diffs)
            return row
        else:
            row["ready"] = True
    which = check.get("versions")
    if which:
        row["expected"], diffs = _version_notes(settings, which, row["version"], platform)
        if diffs:
            row["version_ok"] = False
            row["note"] = "; ".join([row["note"]] + diffs if row["note"] else diffs)
    elif check.get("image") and row["found"] and _image(found[0]) != check["image"]:
        row["expected"] = _tag(check["image"])
        row["note"] = (row["note"] + "; " if row["note"] else "") + "runs {0}, postgres_image is {1}".format(
            _image(found[0]), check["image"])
    return row


def report(check_list, results, settings):
    """The status rows, the table text and the components that are not ready.

    results: what k8s_info returned for each check, in the same order. A
    component of which nothing at all exists gets one row, 'not installed'.
    """
    platform = settings.get("platform") or "kubernetes"
    rows_by_component = {}
    order = []
    for index, check in enumerate(check_list):
        if check["probe"] == "companion":
            continue
        result = results[index] if index < len(results) else {}
        companion = []
        if check["probe"] == "olm" and index + 1 < len(results):
            companion = list((results[index + 1] or {}).get("resources") or [])
        row = _judge(check, result, companion, settings, platform)
        if check["component"] not in rows_by_component:
            rows_by_component[check["component"]] = []
            order.append(check["component"])
        rows_by_component[check["component"]].append(row)
    rows = []
    for component in order:
        group = rows_by_component[component]
        if not any(r["found"] for r in group):
            namespaces = []
            for r in group:
                if r["namespace"] and r["namespace"] not in namespaces:
                    namespaces.append(r["namespace"])
            group = [{"component": component, "namespace": ", ".join(namespaces), "object": "-", "ready": False,
                      "version": "", "expected": "", "found": False, "version_ok": True,
                      "note": "not installed"}]
        rows.extend(group)
    for r in rows:
        r["ok"] = bool(r["ready"] and r["version_ok"])
    failed = []
    for r in rows:
        if not r["ok"] and r["component"] not in failed:
            failed.append(r["component"])
    return {"rows": [dict((k, r[k]) for k in COLUMNS + ("ok",)) for r in rows], "table": table(rows),
            "failed": failed, "ok": not failed}


def table(rows):
    """The rows as aligned text lines, a header first."""
    cells = [list(COLUMNS)]
    for r in rows:
        cells.append([r["component"], r["namespace"] or "-", r["object"], "yes" if r["ready"] else "no",
                      r["version"] or "-", r["expected"] or "-", r["note"] or ""])
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS) - 1)]
    out = []
    for line in cells:
        out.append("  ".join([line[i].ljust(widths[i]) for i in range(len(widths))] + [line[-1]]).rstrip())
    return out
