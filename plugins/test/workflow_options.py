# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether an assessment workflow's workflowOptions are valid."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: valid_workflow_options
short_description: Whether an assessment workflow's workflowOptions are valid
version_added: 0.2.0
description:
  - True when P(rhdh.orchestrator.validate_workflow_options#filter) accepts the data with the same options, false
    otherwise; bad data never raises. Bad options (an unknown attribute in O(required), say) do.
  - Use the filter to get the list of problems.
options:
  _input:
    description:
      - The C(workflowOptions) mapping, or a mapping that holds it under the key C(workflowOptions).
    type: raw
    required: true
  allow_unknown:
    description: Accept keys other than the six attributes and other than C(id) and C(name) in option objects.
    type: bool
    default: false
  required:
    description: Attributes that must be present and not null, or C(all) for the six.
    type: raw
    default: []
  deployed_ids:
    description: Ids of the deployed workflows; every option's id must be one of them. Not checked when omitted.
    type: list
    elements: str
author:
  - rhdh.orchestrator contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: The assessment offers only deployed workflows
  ansible.builtin.assert:
    that:
      - instance.variables.workflowdata is rhdh.orchestrator.valid_workflow_options(deployed_ids=deployed)
"""

RETURN = r"""
_value:
  description: Whether the data is valid.
  type: bool
"""

from ansible.errors import AnsibleError
from ansible_collections.rhdh.orchestrator.plugins.module_utils.workflow_options import UsageError, is_valid


def valid_workflow_options(data, allow_unknown=False, required=None, deployed_ids=None):
    try:
        return is_valid(data, allow_unknown=allow_unknown, required=required, deployed_ids=deployed_ids)
    except UsageError as exc:
        raise AnsibleError("valid_workflow_options: %s" % exc)


class TestModule(object):
    def tests(self):
        return {"valid_workflow_options": valid_workflow_options}
