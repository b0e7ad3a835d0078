# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workflows role's decisions as filters (logic in module_utils/workflows.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: workflows_plan
short_description: Check workflows_list and fill in each workflow's defaults and persistence
version_added: 1.0.0
description:
  - Checks every entry of the workflows role's C(workflows_list) and returns one message per failed rule, naming
    the variable and the entry (C(workflows_list[1].version ...)), with the entries completed (namespace, release
    name, timeout, schema, SonataFlow persistence) and the manifest files to read.
  - Also provides C(workflows_prerequisites) (the database Secret each workflow needs), C(workflow_documents)
    (a manifests workflow's objects in its namespace, with its persistence) and C(workflow_patch) (the
    server-side apply body that sets a Helm-installed SonataFlow's persistence, or none when it is right), and for
    removal C(workflows_removal) (the releases the collection installed, from their SonataFlows' marker label) and
    C(workflows_kept) (what removal left, and why), and C(workflows_preexisting) (what an install used without
    having made it).
options:
  _input:
    description: The value of C(workflows_list).
    type: raw
    required: true
  defaults:
    description: C(namespace), C(timeout), C(state), C(rhdh_version), C(skip_version_check) and C(table) (the chart
      support table).
    type: dict
    required: true
  pg:
    description: Database settings, keys C(secret_name), C(user_key), C(password_key), C(service_name),
      C(service_namespace), C(port), C(database).
    type: dict
    required: true
  texts:
    description: Manifest file path to its text (null for a file that could not be read); omit before reading.
    type: dict
author:
  - rhdh.orchestrator contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Check the workflows
  ansible.builtin.set_fact:
    plan: "{{ workflows_list | rhdh.orchestrator.workflows_plan(defaults, pg) }}"
"""

RETURN = r"""
_value:
  description: C(errors) (list of messages), C(workflows) (the completed entries) and C(paths) (manifest files).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.rhdh.orchestrator.plugins.module_utils import workflows as wf

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
    errors, completed, paths = wf.plan(items, defaults, pg, None if texts is None else _parse(texts))
    return {"errors": errors, "workflows": completed, "paths": paths}


def workflows_prerequisites(items, secret_results, pg, flows, releases, helm_binary="helm"):
    return wf.prerequisite_errors(items, secret_results, pg, flows, releases, helm_binary)


def workflow_documents(item, marker=None):
    return wf.documents(item, marker)


def workflow_patch(live, item, installed_now, marker=None):
    try:
        return wf.patch(live, item, bool(installed_now), marker)
    except wf.WorkflowError as exc:
        raise AnsibleFilterError(str(exc))


def workflows_removal(flows, marker=None):
    return wf.removal(flows, marker)


def workflows_kept(kept, results):
    return wf.kept_messages(kept, results)


def workflows_preexisting(flows, existing, applied, marker=None):
    return wf.preexisting_messages(flows, existing, applied, marker)


class FilterModule(object):
    def filters(self):
        return {"workflows_plan": workflows_plan, "workflows_prerequisites": workflows_prerequisites,
                "workflow_documents": workflow_documents, "workflow_patch": workflow_patch,
                "workflows_removal": workflows_removal, "workflows_kept": workflows_kept,
                "workflows_preexisting": workflows_preexisting}
