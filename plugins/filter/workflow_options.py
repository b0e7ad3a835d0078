# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check and normalize an assessment workflow's workflowOptions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: validate_workflow_options
short_description: Check and normalize an assessment workflow's workflowOptions
version_added: 0.2.0
description:
  - Checks the C(workflowOptions) an assessment workflow writes into its C(workflowdata) (the workflows the
    orchestrator plugin offers to run next) and returns them normalized.
  - C(currentVersion) is one object with C(id) and C(name); C(upgradeOptions), C(migrationOptions), C(newOptions),
    C(continuationOptions) and C(otherOptions) are lists of such objects (empty lists are fine). Ids and names are
    non-empty strings; surrounding blanks are removed.
  - An attribute that is absent or null counts as empty (C(currentVersion) becomes null), since the plugin shows what it
    gets, and the precheck subflow may drop options whose workflow is not deployed. Use O(required) to insist.
  - >-
    Fails listing every problem at once, each with the path of the value, for example
    C(workflowOptions.migrationOptions[2].name: missing) or
    C(workflowOptions.migrateOptions: unknown attribute; did you mean migrationOptions?) (names that differ only
    by case or a few letters get such a hint, in option objects too). The order of the errors depends only on
    the data.
  - The test P(rhdh.orchestrator.valid_workflow_options#test) gives true or false instead of failing.
options:
  _input:
    description:
      - The C(workflowOptions) mapping, or a mapping that holds it under the key C(workflowOptions) (such as a
        workflow instance's C(workflowdata)); the other keys of that mapping are not looked at.
    type: dict
    required: true
  allow_unknown:
    description:
      - Accept keys other than the six attributes, and keys other than C(id) and C(name) in the option objects,
        and keep them in the result as they are. By default they are errors.
    type: bool
    default: false
  required:
    description:
      - Attributes that must be present and not null, or C(all) for the six.
    type: raw
    default: []
  deployed_ids:
    description:
      - Ids of the deployed workflows. Every option's id must be one of them; an error names the id, the
        closest deployed id and the deployed ids (sorted, the first ten).
      - Not checked when omitted.
    type: list
    elements: str
author:
  - rhdh.orchestrator contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: The options of a finished assessment, checked against the deployed workflows
  ansible.builtin.set_fact:
    next_workflows: >-
      {{ instance.variables.workflowdata
         | rhdh.orchestrator.validate_workflow_options(deployed_ids=definitions | map(attribute='id') | list) }}

- name: All six attributes, extra keys tolerated
  ansible.builtin.debug:
    msg: "{{ options | rhdh.orchestrator.validate_workflow_options(required='all', allow_unknown=true) }}"
"""

RETURN = r"""
_value:
  description:
    - The workflowOptions with all six attributes, ids and names stripped, lists for the five list attributes
      (empty when absent) and an object or null for C(currentVersion). With O(allow_unknown=true) the other keys
      follow, unchanged.
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.rhdh.orchestrator.plugins.module_utils.workflow_options import (
    InvalidWorkflowOptions, UsageError, normalize)


def validate_workflow_options(data, allow_unknown=False, required=None, deployed_ids=None):
    try:
        return normalize(data, allow_unknown=allow_unknown, required=required, deployed_ids=deployed_ids)
    except (InvalidWorkflowOptions, UsageError) as exc:
        raise AnsibleFilterError("validate_workflow_options: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"validate_workflow_options": validate_workflow_options}
