# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' input rules as filters (logic in module_utils/input_check.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Documentation: input_errors.yml and input_error_vars.yml beside this file (one per filter).

from ansible.errors import AnsibleFilterError
from ansible_collections.rhdh.orchestrator.plugins.module_utils.input_check import (
    RuleError, input_errors as _input_errors, spec_error_var)


def input_errors(rules, sources=None, spec_errors=None, spec_values=None):
    try:
        return _input_errors(list(rules or []), dict(sources or {}), list(spec_errors or []), dict(spec_values or {}))
    except RuleError as exc:
        raise AnsibleFilterError("input_errors: %s" % exc)


def input_error_vars(spec_errors):
    names = []
    for text in spec_errors or []:
        name = spec_error_var(str(text))
        if name and name not in names:
            names.append(name)
    return names


class FilterModule(object):
    def filters(self):
        return {"input_errors": input_errors, "input_error_vars": input_error_vars}
