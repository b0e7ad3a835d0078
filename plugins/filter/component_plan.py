# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dependency plan of the stack's components as a filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: component_plan
short_description: Order the stack's components by their dependencies and pick what a run installs or removes
version_added: 0.2.0
description:
  - Takes the components of the stack (the collection's roles and the user's own Helm-charted applications), each
    with C(name), optional C(depends_on) (a list of names) and optional C(enabled) (default true; the strings
    C(true), C(false), C(yes), C(no) of an AWX survey count too). Any other field, such as C(role), C(chart) or
    C(namespace), is passed through as it is.
  - Returns the install order of the enabled components (a topological order), the exact reverse for removal, the
    components a run touches and, for the playbook that runs them, what each one depends on and what depends on it.
  - With O(targets) and O(state=present) the run takes the targets plus everything they depend on; with
    O(state=absent) the targets plus everything that depends on them, since nothing can be removed while components
    that run on it stay.
  - Deterministic. Ties are broken by the position in the input (list order, or key order of a dict), never by
    hashing. When the input order already respects every dependency, RV(_value.order) is the input order. Wave
    membership, the selection, RV(_value.skipped), RV(_value.dependencies), RV(_value.dependents) and
    RV(_value.blocked) do not depend on the input order; only the order among components that do not depend on each
    other does.
  - Fails naming every problem at once, each with its component, before anything runs. A dependency cycle (printed
    as a path, C(a -> b -> a), each depending on the next), a name in C(depends_on), O(targets) or O(failed) that
    is not a component (with the closest name as a hint), a dependency of an enabled component on a disabled one, a
    target that is disabled, a duplicate or malformed name, and a C(depends_on) that is not a list.
options:
  _input:
    description:
      - The components, a list of mappings with C(name), or a dict of name to mapping (which the C(combine) filter
        with C(recursive=true) can override per environment).
      - Names are 1 to 63 lowercase letters, digits, C(-) or C(_), starting and ending with a letter or digit.
    type: raw
    required: true
  state:
    description: Whether the run installs (V(present)) or removes (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  targets:
    description:
      - The components to run; empty means every enabled one. A string (an AWX survey answer) is split on commas and
        whitespace.
    type: list
    elements: str
  include_dependencies:
    description:
      - Add what the targets need (O(state=present)) or what needs them (O(state=absent)), transitively.
      - With V(false) the run takes the targets alone and the caller answers for the rest.
    type: bool
    default: true
  failed:
    description:
      - Components that failed in this run. RV(_value.blocked) then lists those of the run that must not run after
        them.
    type: list
    elements: str
author:
  - rhdh.orchestrator contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Plan the stack, a user's Helm chart included
  ansible.builtin.set_fact:
    plan: "{{ components | rhdh.orchestrator.component_plan(state=orchestrator_state | default('present')) }}"
  vars:
    components:
      postgres: {role: rhdh.orchestrator.postgres}
      serverless: {role: rhdh.orchestrator.serverless}
      sonataflow: {role: rhdh.orchestrator.sonataflow, depends_on: [postgres, serverless]}
      rhdh: {role: rhdh.orchestrator.rhdh, depends_on: [sonataflow]}
      my-workflows: {chart: my-repo/my-workflows, namespace: sonataflow-infra, depends_on: [sonataflow, rhdh]}
# plan.order:         [postgres, serverless, sonataflow, rhdh, my-workflows]
# plan.waves:         [[postgres, serverless], [sonataflow], [rhdh], [my-workflows]]
# plan.removal_order: [my-workflows, rhdh, sonataflow, serverless, postgres]

- name: Remove the database and everything that runs on it
  ansible.builtin.debug:
    msg: "{{ (components | rhdh.orchestrator.component_plan(state='absent', targets=['postgres'])).run }}"
# [my-workflows, rhdh, sonataflow, postgres]

- name: Keep going with what does not depend on the failed components
  ansible.builtin.include_role:
    name: "{{ plan.components[item].role }}"
  loop: "{{ plan.run }}"
  when: item not in (components | rhdh.orchestrator.component_plan(failed=failed_components | default([]))).blocked
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    state:
      description: V(present) or V(absent).
      type: str
    components:
      description:
        - Every component by name, in input order, with C(depends_on) a list, C(enabled) a boolean, the other fields
          as given.
      type: dict
    order:
      description: Install order of all enabled components.
      type: list
      elements: str
    removal_order:
      description: The exact reverse of RV(_value.order).
      type: list
      elements: str
    waves:
      description:
        - The selection in install waves. Each component's dependencies are in earlier waves (dependencies outside
          the selection count as met); within a wave, input order.
      type: list
      elements: list
    removal_waves:
      description: RV(_value.waves) reversed, each wave reversed too; a component's dependents come in earlier waves.
      type: list
      elements: list
    selected:
      description: The components the run touches, in install order.
      type: list
      elements: str
    run:
      description: What to run for O(state), the selection in install order (V(present)) or removal order (V(absent)).
      type: list
      elements: str
    skipped:
      description:
        - The components left out, in input order, each a dict with C(name) and C(reason) (C(disabled), or
          C(not selected) followed by why).
      type: list
      elements: dict
    dependencies:
      description: For each selected component, everything it depends on, transitively, in install order.
      type: dict
    dependents:
      description: For each selected component, everything that depends on it, transitively, in install order.
      type: dict
    failed:
      description: O(failed) in install order.
      type: list
      elements: str
    blocked:
      description:
        - The components of the run that must not run because of O(failed), in run order. For V(present), what
          depends on a failed component, transitively; for V(absent), what a component whose removal failed depends
          on (removing it would strand the component that stayed). Empty without O(failed).
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.rhdh.orchestrator.plugins.module_utils.component_plan import (
    ComponentPlanError, plan)


def component_plan(components, state="present", targets=None, include_dependencies=True, failed=None):
    try:
        return plan(components, state=state, targets=targets, include_dependencies=include_dependencies, failed=failed)
    except ComponentPlanError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {"component_plan": component_plan}
