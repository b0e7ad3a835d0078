#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: diagnostics_archive
short_description: Collect the Orchestrator's objects, events and conditions into a tar.gz, Secret values left out
version_added: 0.2.0
description:
  - Reads, in each of O(namespaces), events, pods, Deployments, StatefulSets, Jobs, Services, PersistentVolumeClaims,
    NetworkPolicies, ConfigMaps, Secrets, OLM Subscriptions, ClusterServiceVersions, InstallPlans and OperatorGroups,
    and the Orchestrator's custom resources (Knative, SonataFlow, Backstage, AppProject, Pipeline); cluster-wide the
    SonataFlowClusterPlatforms and the CRDs of those API groups. A kind the cluster does not serve is skipped.
  - Keeps metadata and status of custom resources and pods, the containers of workloads, the latest O(events_limit)
    events per namespace, and a summary of every condition.
  - "Nothing secret is kept: a Secret is written as its name, type and key names, every value replaced; ConfigMap
    values whose key looks like a credential (password, token, secret, key) are replaced, and so is the value of such
    a C(key: value) line inside other values; literal env values of credential-looking names are replaced; the
    last-applied-configuration annotation and managedFields are dropped."
  - Writes everything, with O(files), as one gzip tar archive at O(dest), under a folder named after it. Read-only on
    the cluster; in check mode nothing is written.
author:
  - rhdh.orchestrator contributors (!UNKNOWN)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  dest:
    description: Path of the archive to write (C(.tar.gz)); its folder must exist.
    type: path
    required: true
  namespaces:
    description: The namespaces to read; those that do not exist are noted in C(errors.txt).
    type: list
    elements: str
    default: []
  files:
    description: More files for the archive, relative path to text (a status report, settings); already free of secrets.
    type: dict
    default: {}
  events_limit:
    description: The latest events kept per namespace; 0 keeps all.
    type: int
    default: 300
  mode:
    description: File mode of the archive.
    type: raw
    default: "0600"
"""

EXAMPLES = r"""
- name: Collect the Orchestrator's state
  rhdh.orchestrator.diagnostics_archive:
    dest: /tmp/orchestrator-diagnostics.tar.gz
    namespaces: [sonataflow-infra, rhdh-operator, knative-serving]
    files:
      status.txt: "{{ report.table | join('\n') }}"
"""

RETURN = r"""
dest:
  description: The archive written (or that would be, in check mode).
  returned: always
  type: str
files:
  description: The files in the archive, relative to its folder.
  returned: always
  type: list
  elements: str
errors:
  description: Kinds or namespaces that could not be read, with the reason.
  returned: always
  type: list
  elements: str
"""

import copy
import os
import time

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
from ansible_collections.rhdh.orchestrator.plugins.module_utils import diagnostics as diag
from ansible_collections.rhdh.orchestrator.plugins.module_utils.kube import DynamicApiError, Kube, ResourceNotFoundError


def _list(kube, api_versions, kind, namespace=None):
    """Items of a kind (the first of api_versions that is served); None when none is."""
    for api_version in api_versions if isinstance(api_versions, list) else [api_versions]:
        try:
            resource = kube.client.resource(kind, api_version)
        except ResourceNotFoundError:
            continue
        return [item.to_dict() for item in resource.get(namespace=namespace).items]
    return None


def collect(kube, namespaces, events_limit):
    files, errors, conditioned = {}, [], []
    for namespace in namespaces:
        if kube.get("v1", "Namespace", namespace) is None:
            errors.append("namespace {0} does not exist".format(namespace))
            continue
        for spec in diag.NAMESPACED:
            try:
                items = _list(kube, spec["api_version"], spec["kind"], namespace)
            except DynamicApiError as exc:
                errors.append("{0} in {1}: {2}".format(spec["kind"], namespace, getattr(exc, "reason", exc)))
                continue
            if not items:
                continue
            if spec["keep"] == "event":
                files["{0}/events.txt".format(namespace)] = diag.events_text(items, events_limit)
                continue
            kept = [diag.keep(item, spec["keep"]) for item in items]
            for obj in kept:
                obj.setdefault("kind", spec["kind"])
            conditioned.extend(kept)
            files["{0}/{1}.json".format(namespace, spec["kind"].lower())] = diag.dump(kept)
    for spec in diag.CLUSTER:
        try:
            items = _list(kube, spec["api_version"], spec["kind"])
        except DynamicApiError as exc:
            errors.append("{0}: {1}".format(spec["kind"], getattr(exc, "reason", exc)))
            continue
        if spec.get("groups"):
            items = [i for i in items or [] if (i.get("spec") or {}).get("group") in spec["groups"]]
        if not items:
            continue
        kept = [diag.keep(item, spec["keep"]) for item in items]
        for obj in kept:
            obj.setdefault("kind", spec["kind"])
        conditioned.extend(kept)
        files["cluster/{0}.json".format(spec["kind"].lower())] = diag.dump(kept)
    files["conditions.txt"] = diag.conditions_summary(conditioned)
    return files, errors


def main():
    argument_spec = copy.deepcopy(AUTH_ARG_SPEC)
    argument_spec.update(
        dest=dict(type="path", required=True),
        namespaces=dict(type="list", elements="str", default=[]),
        files=dict(type="dict", default={}),
        events_limit=dict(type="int", default=300),
        mode=dict(type="raw", default="0600"),
    )
    module = AnsibleK8SModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    dest = p["dest"]
    top = os.path.basename(dest)
    for suffix in (".tar.gz", ".tgz"):
        if top.endswith(suffix):
            top = top[:-len(suffix)]
    try:
        kube = Kube(module)
        files, errors = collect(kube, list(dict.fromkeys(p["namespaces"])), p["events_limit"])
    except CoreException as exc:
        module.fail_json(msg="Cannot read the cluster: {0}".format(exc))
    for name, text in (p["files"] or {}).items():
        files[name] = text if isinstance(text, str) else diag.dump(text)
    if errors:
        files["errors.txt"] = "\n".join(errors) + "\n"
    names = sorted(files)
    if not module.check_mode:
        mode = p["mode"]
        mode = int(mode, 8) if isinstance(mode, str) else int(mode)
        names = diag.write_archive(dest, files, top, mtime=time.time(), mode=mode)
    module.exit_json(changed=True, dest=dest, files=names, errors=errors)


if __name__ == "__main__":
    main()
