# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of an assessment workflow's ``workflowOptions``.

An assessment workflow writes ``workflowOptions`` into its ``workflowdata``;
the orchestrator plugin lists the entries as the workflows the user may run
next (orchestrator-facts.md section 8.2). Six attributes: ``currentVersion``
is one ``{id, name}`` object, the five others are lists of them. Each id is
the id of a deployed workflow (the plugin links to ``/workflows/<id>``).

Choices, with the reason:

- An attribute that is absent or null is accepted and becomes ``[]`` (or
  ``None`` for ``currentVersion``): the plugin renders whatever keys it gets
  and marks nothing "Recommended" without ``currentVersion``, and the
  precheck subflow drops the ids that are not deployed, which can leave the
  current version out. ``required`` names attributes that must be there
  (``all`` for the six the Java model and the sample output always have).
- The plugin also renders any extra key; the schema does not forbid them
  either. They are refused by default, because a typo (upstream's own README
  says ``migrateOptions``) would otherwise lose a category without a word;
  ``allow_unknown`` keeps them as they are.

Every error is reported at once, each with the path of the value it is about,
in an order that depends only on the data (the six attributes in schema
order, list items by index, ``id`` before ``name``, then the unknown keys
sorted), never on the order of a mapping's keys.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import difflib
import json
import re

from collections.abc import Iterable, Mapping

ROOT = "workflowOptions"
CURRENT = "currentVersion"
# Schema order (workflow-options-output-schema.json).
ATTRIBUTES = (CURRENT, "upgradeOptions", "migrationOptions", "newOptions", "continuationOptions", "otherOptions")
OPTION_KEYS = ("id", "name")
# How many deployed ids an error lists before it says how many more there are.
LISTED_IDS = 10

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_TEXT = (str,)


class UsageError(ValueError):
    """The filter or test was called with bad options (not bad data)."""


class InvalidWorkflowOptions(ValueError):
    """The data is not valid; ``errors`` lists every problem found, in order."""

    def __init__(self, errors):
        self.errors = list(errors)
        count = len(self.errors)
        listing = "\n".join("- " + e for e in self.errors)
        super(InvalidWorkflowOptions, self).__init__(
            "%s is not valid (%d error%s):\n%s" % (ROOT, count, "" if count == 1 else "s", listing))


def kind(value):
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, _TEXT):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def child(path, key):
    """The path of ``key`` inside the mapping at ``path``."""
    if isinstance(key, _TEXT) and _PLAIN_KEY.match(key):
        return path + "." + key
    if isinstance(key, _TEXT):
        return path + "[" + json.dumps(key, ensure_ascii=False) + "]"
    return path + "[" + repr(key) + "]"


def suggestion(key, known):
    """The known name ``key`` most likely stands for, or None."""
    if not isinstance(key, _TEXT):
        return None
    lowered = dict((name.lower(), name) for name in known)
    wanted = key.strip().lower()
    if wanted in lowered:
        return lowered[wanted]
    close = difflib.get_close_matches(wanted, sorted(lowered), n=1)
    return lowered[close[0]] if close else None


def _sort_key(key):
    return (not isinstance(key, _TEXT), kind(key), str(key))


def _unknown_keys(mapping, known):
    return sorted((k for k in mapping if k not in known), key=_sort_key)


def _missing(path, key, unknown, known):
    """``<path>.<key>: missing``, naming the unknown keys that look like it."""
    lookalikes = [k if _PLAIN_KEY.match(k) else json.dumps(k, ensure_ascii=False)
                  for k in unknown if suggestion(k, known) == key]
    message = child(path, key) + ": missing"
    if lookalikes:
        message += " (found " + ", ".join(lookalikes) + ")"
    return message


def _iterable(value):
    return isinstance(value, Iterable) and not isinstance(value, (Mapping, bytes) + _TEXT)


def _listing(ids):
    ids = sorted(ids)
    if not ids:
        return "none"
    shown = ", ".join(ids[:LISTED_IDS])
    if len(ids) > LISTED_IDS:
        shown += " and %d more" % (len(ids) - LISTED_IDS)
    return shown


def check_usage(allow_unknown=False, required=None, deployed_ids=None):
    """The options, checked and normalized: (allow_unknown, required tuple, deployed frozenset or None)."""
    if not isinstance(allow_unknown, bool):
        raise UsageError("allow_unknown: expected true or false, got %s" % kind(allow_unknown))
    if required is None:
        required = ()
    elif isinstance(required, _TEXT) and required.strip() == "all":
        required = ATTRIBUTES
    elif _iterable(required):
        required = tuple(required)
        for name in required:
            if name not in ATTRIBUTES:
                hint = suggestion(name, ATTRIBUTES)
                raise UsageError("required: %s is not an attribute of %s%s (attributes: %s, or all)"
                                 % (json.dumps(name, ensure_ascii=False, default=str), ROOT,
                                    "; did you mean %s?" % hint if hint else "", ", ".join(ATTRIBUTES)))
    else:
        raise UsageError("required: expected a list of attribute names or all, got %s" % kind(required))
    if deployed_ids is not None:
        if not _iterable(deployed_ids):
            raise UsageError("deployed_ids: expected a list of workflow ids, got %s" % kind(deployed_ids))
        ids = list(deployed_ids)
        for index, value in enumerate(ids):
            if not isinstance(value, _TEXT):
                raise UsageError("deployed_ids[%d]: expected a workflow id (string), got %s" % (index, kind(value)))
        deployed_ids = frozenset(value.strip() for value in ids if value.strip())
    return allow_unknown, required, deployed_ids


def _option(value, path, allow_unknown, deployed, errors):
    """One ``{id, name}`` object, normalized; appends its problems to ``errors``."""
    if not isinstance(value, Mapping):
        errors.append("%s: expected an object with id and name, got %s" % (path, kind(value)))
        return None
    unknown = _unknown_keys(value, OPTION_KEYS)
    out = {}
    for key in OPTION_KEYS:
        where = child(path, key)
        if key not in value:
            errors.append(_missing(path, key, unknown, OPTION_KEYS))
            continue
        text = value[key]
        if not isinstance(text, _TEXT):
            errors.append("%s: expected a non-empty string, got %s" % (where, kind(text)))
        elif not text.strip():
            errors.append(where + ": empty")
        else:
            out[key] = str(text.strip())
            if key == "id" and deployed is not None and out[key] not in deployed:
                hint = difflib.get_close_matches(out[key], sorted(deployed), n=1)
                errors.append("%s: %s is not a deployed workflow%s (deployed: %s)"
                              % (where, json.dumps(out[key], ensure_ascii=False),
                                 "; did you mean %s?" % hint[0] if hint else "", _listing(deployed)))
    _keep_or_refuse(unknown, value, out, path, OPTION_KEYS, "unknown key", allow_unknown, errors)
    return out


def _keep_or_refuse(unknown, source, out, path, known, what, allow_unknown, errors):
    """Copy the unknown keys of source into out, or report each with a near-miss hint."""
    for key in unknown:
        if allow_unknown:
            out[key] = copy.deepcopy(source[key])
        else:
            hint = suggestion(key, known)
            errors.append(child(path, key) + ": " + what + ("; did you mean %s?" % hint if hint else ""))


def validate(data, allow_unknown=False, required=None, deployed_ids=None):
    """(normalized, errors): normalized is None when errors is not empty.

    ``data`` is the ``workflowOptions`` mapping or a mapping that holds it
    under ``workflowOptions`` (a workflow's ``workflowdata``); the other keys
    of such a mapping are not looked at. Raises UsageError for bad options.
    """
    allow_unknown, required, deployed = check_usage(allow_unknown, required, deployed_ids)
    if isinstance(data, Mapping) and ROOT in data:
        data = data[ROOT]
    if not isinstance(data, Mapping):
        return None, ["%s: expected an object, got %s" % (ROOT, kind(data))]
    errors = []
    unknown = _unknown_keys(data, ATTRIBUTES)
    out = {}
    for attribute in ATTRIBUTES:
        path = child(ROOT, attribute)
        value = data.get(attribute)
        if value is None:
            if attribute in required:
                errors.append(_missing(ROOT, attribute, unknown, ATTRIBUTES) if attribute not in data
                              else path + ": required, got null")
            out[attribute] = None if attribute == CURRENT else []
        elif attribute == CURRENT:
            out[attribute] = _option(value, path, allow_unknown, deployed, errors)
        elif not isinstance(value, (list, tuple)):
            errors.append("%s: expected a list of objects with id and name, got %s" % (path, kind(value)))
        else:
            out[attribute] = [_option(item, "%s[%d]" % (path, index), allow_unknown, deployed, errors)
                              for index, item in enumerate(value)]
    _keep_or_refuse(unknown, data, out, ROOT, ATTRIBUTES, "unknown attribute", allow_unknown, errors)
    return (None if errors else out), errors


def normalize(data, allow_unknown=False, required=None, deployed_ids=None):
    """The normalized ``workflowOptions``; raises InvalidWorkflowOptions with every error."""
    out, errors = validate(data, allow_unknown, required, deployed_ids)
    if errors:
        raise InvalidWorkflowOptions(errors)
    return out


def is_valid(data, allow_unknown=False, required=None, deployed_ids=None):
    """True or False for the data; raises UsageError for bad options only."""
    return not validate(data, allow_unknown, required, deployed_ids)[1]
