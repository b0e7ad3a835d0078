# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workflows role's decisions as filters (logic in module_utils/workflows.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Documentation: workflows_plan.yml, workflows_prerequisites.yml, workflow_documents.yml, workflow_patch.yml and
# workflows_removal.yml beside this file (one per filter).

from ansible.errors import AnsibleFilterError
from ansible_collections.rhdh.orchestrator.plugins.module_utils.workflows import (
    WorkflowError, documents, knative, patch, plan, preexisting_messages, prerequisite_errors, removal)

try:
    import yaml
except ImportError:  # ansible-core needs PyYAML, so this does not happen on a controller
    yaml = None


def _parse(texts):
    """path -> list of documents, or the message telling why the file is of no use."""
    out = {}
    for path, text in (texts or {}).items():
        if text is None:
            out[path] = "cannot be read (missing, or not a file on the controller)"
            continue
        try:
            out[path] = list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            out[path] = "is not valid YAML: {0}".format(" ".join(str(exc).split()))
    return out


def workflows_plan(items, defaults, pg, texts=None):
    errors, completed, paths = plan(items, defaults, pg, None if texts is None else _parse(texts))
    # waits: the few keys the wait loops over, so that a failed item prints short.
    waits = [{"name": i["name"], "namespace": i["namespace"], "timeout": i["timeout"]} for i in completed]
    return {"errors": errors, "workflows": completed, "paths": paths, "waits": waits,
            "knative": knative(completed)}


def workflows_prerequisites(items, secret_results, pg, flows, releases, helm_binary="helm", marker=None):
    return {"errors": prerequisite_errors(items, secret_results, pg, flows, releases, helm_binary),
            "preexisting": preexisting_messages(flows, marker)}


def workflow_documents(items, marker=None):
    """The documents of one manifests workflow, or of a list of them one after the other."""
    if isinstance(items, dict):
        return documents(items, marker)
    return [doc for item in items for doc in documents(item, marker)]


def workflow_patch(live, item, installed_now, marker=None):
    try:
        return patch(live, item, bool(installed_now), marker)
    except WorkflowError as exc:
        raise AnsibleFilterError(str(exc))


def workflows_removal(items, flows, marker=None):
    return removal(items, flows, marker)


class FilterModule(object):
    def filters(self):
        return {"workflows_plan": workflows_plan, "workflows_prerequisites": workflows_prerequisites,
                "workflow_documents": workflow_documents, "workflow_patch": workflow_patch,
                "workflows_removal": workflows_removal}
