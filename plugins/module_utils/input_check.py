# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input rules of the roles, checked before anything changes.

A rule is data: ``{var, value, test, ...arguments}``. ``check_rules`` returns
one message per failed rule, each naming the variable the user set.

Naming: a role variable such as ``postgres_wait_timeout`` defaults to a
collection-wide one (``"{{ orchestrator_wait_timeout | default(300) }}"``).
``references`` reads the role defaults' text and tells which variables each
default refers to; ``blame`` follows those references (through other role
variables too) to the ``orchestrator_*`` variables, and names the first one
the user set whose value is the value the rule saw. Otherwise the rule's own
variable is named.

A failed rule whose variable derives from the variable of another failed rule
is left out: its value is a consequence (``rhdh_data_index_url`` built from a
bad ``rhdh_workflow_namespace``), the other message says what to fix.

Values of rules marked ``secret`` are never shown.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

try:
    import yaml
except ImportError:  # pragma: no cover - ansible always has PyYAML
    yaml = None

SOURCE_PREFIX = "orchestrator_"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_URL_HOST = re.compile(r"^https?://[^\s/]+$")
_HOST = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]+)?$")
_IDENT = re.compile(r"\b([a-z][a-z0-9_]*)\b")
_SPEC_NAME = re.compile(r"^(?:argument '([A-Za-z0-9_]+)'|value of ([A-Za-z0-9_]+) |([a-z][a-z0-9_]*)(?:\[[^\]]*\])*: )"
                        r"|option '([A-Za-z0-9_]+)'|\b([A-Za-z0-9_]+) must be one of\b")


class RuleError(ValueError):
    """A rule that cannot be checked (unknown test, missing argument)."""


def _show(value):
    return "'%s'" % (value,)


def _digits(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if re.match(r"^[0-9]+$", text) else None


def _empty(value):
    return value is None or (hasattr(value, "__len__") and len(value) == 0)


def _truthy(value):
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y", "t")
    return bool(value)


def _pattern_test(pattern, what):
    def test(value, rule):
        return None if pattern.match(str(value)) else what
    return test


def _positive_int(value, rule):
    number = _digits(value)
    if number is not None and number > 0:
        return None
    return "must be a positive number of seconds" if rule.get("seconds", True) else "must be a positive whole number"


def _port(value, rule):
    number = _digits(value)
    return None if number is not None and 0 < number < 65536 else "must be a port number (1-65535)"


def _one_of(value, rule):
    choices = rule.get("choices")
    if choices is None:
        raise RuleError("one_of needs choices")
    return None if value in choices else "must be one of %s" % ", ".join(str(c) for c in choices)


def _regex(value, rule):
    if "pattern" not in rule:
        raise RuleError("regex needs pattern")
    return None if re.search(rule["pattern"], str(value)) else rule.get("what", "must match %s" % rule["pattern"])


def _each(pattern, what):
    def test(value, rule):
        items = value if isinstance(value, (list, tuple)) else [value]
        bad = [str(i) for i in items if not pattern.match(str(i))]
        if bad:
            rule["_shown"] = ", ".join(bad)
            return what
        return None
    return test


def _not_empty(value, rule):
    return "must not be empty" if _empty(value) or (isinstance(value, str) and not value.strip()) else None


def _together(value, rule):
    """var and other are set together or not at all."""
    rule["_hide"] = True
    if _empty(value) == _empty(rule.get("other_value")):
        return None
    return "and %s go together: set both or neither" % rule["other"]


def _requires(value, rule):
    """When var is true (or set), each of others must be set."""
    rule["_hide"] = True
    if not (_truthy(value) if rule.get("flag", True) else not _empty(value)):
        return None
    missing = [name for name, other in zip(rule["others"], rule["other_values"]) if _empty(other)]
    return "needs %s" % " and ".join(missing) if missing else None


def _condition(value, rule):
    """A rule computed by the caller: ok is true when it holds; what says what must hold."""
    if "ok" not in rule or "what" not in rule:
        raise RuleError("condition needs ok and what")
    if not rule.get("show", False):
        rule["_hide"] = True
    return None if _truthy(rule["ok"]) else rule["what"]


TESTS = {
    "dns_label": _pattern_test(_DNS_LABEL, "must be a DNS label (lowercase letters, digits and '-', at most 63)"),
    "dns_name": _pattern_test(_DNS_NAME, "must be a DNS subdomain name (lowercase letters, digits, '-' and '.')"),
    "dns_labels": _each(_DNS_LABEL, "must list DNS labels"),
    "quantity": _pattern_test(_QUANTITY, "must be a Kubernetes quantity such as 2Gi"),
    "positive_int": _positive_int,
    "port": _port,
    "url": _pattern_test(_URL, "must be an http(s) URL"),
    "url_host": _pattern_test(_URL_HOST, "must be http(s)://host without a path"),
    "host": _pattern_test(_HOST, "must be a host name without a scheme"),
    "one_of": _one_of,
    "regex": _regex,
    "not_empty": _not_empty,
    "together": _together,
    "requires": _requires,
    "condition": _condition,
}


def references(defaults_texts):
    """{var: [names its default refers to]} from role defaults files' text.

    Only templated defaults refer to anything; names are the identifiers in
    the template that are variables (an ``orchestrator_*`` one or a key of
    any of the defaults), in the order they appear.
    """
    parsed = {}
    for text in defaults_texts:
        data = yaml.safe_load(text) if text else None
        if isinstance(data, dict):
            parsed.update(data)
    known = set(parsed)
    refs = {}
    for name, value in parsed.items():
        text = _flatten(value)
        if "{{" not in text and "{%" not in text:
            continue
        found = []
        for ident in _IDENT.findall(text):
            if ident != name and (ident in known or ident.startswith(SOURCE_PREFIX)) and ident not in found:
                found.append(ident)
        if found:
            refs[name] = found
    return refs


def _flatten(value):
    if isinstance(value, dict):
        return " ".join(_flatten(k) + " " + _flatten(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return " ".join(_flatten(v) for v in value)
    return value if isinstance(value, str) else ""


def ancestors(var, refs):
    """Every variable var's default leads to, nearest first (breadth first, no repeats)."""
    seen, queue, out = {var}, [var], []
    while queue:
        for ref in refs.get(queue.pop(0), []):
            if ref not in seen:
                seen.add(ref)
                out.append(ref)
                queue.append(ref)
    return out


def _same(a, b):
    if a == b:
        return True
    scalar = (str, int, float, bool)
    return isinstance(a, scalar) and isinstance(b, scalar) and str(a) == str(b)


def blame(var, value, refs, sources):
    """The variable to name: an orchestrator_* var the user set that var derives from with this value, else var."""
    for name in ancestors(var, refs):
        if name.startswith(SOURCE_PREFIX) and name in sources and _same(sources[name], value):
            return name
    return var


def _message(rule, name, what):
    if what.startswith("and "):  # "x and y go together"
        return "%s %s" % (name, what)
    shown = rule.get("_shown")
    if rule.get("secret") or rule.get("_hide"):
        tail = " (its value is not shown)" if rule.get("secret") else ""
    else:
        tail = " (got %s)" % _show(shown if shown is not None else rule.get("value"))
    return "%s %s%s" % (name, what, tail)


def failed_rules(rules, sources=None, refs=None):
    """[(var, name, value, message)] of the failed rules, in rule order."""
    sources, refs = sources or {}, refs or {}
    failed = []
    for given in rules or []:
        rule = dict(given)
        if "var" not in rule or "test" not in rule:
            raise RuleError("a rule needs var and test: %r" % (sorted(rule),))
        test = TESTS.get(rule["test"])
        if test is None:
            raise RuleError("unknown test %r (known: %s)" % (rule["test"], ", ".join(sorted(TESTS))))
        if not _truthy(rule.get("when", True)):
            continue
        what = test(rule.get("value"), rule)
        if what:
            name = rule["var"] if rule.get("_hide") else blame(rule["var"], rule.get("value"), refs, sources)
            failed.append((rule["var"], name, rule.get("value"), _message(rule, name, what)))
    return failed


def _consequence(entry, failed, refs):
    """True when entry's value was built from the value of another failed rule's variable."""
    var, _name, value, _message = entry
    if not isinstance(value, str):
        return False
    up = set(ancestors(var, refs))
    for other in failed:
        if other is entry or other[0] == var or other[0] not in up:
            continue
        if isinstance(other[2], str) and other[2] and other[2] in value:
            return True
    return False


def check_rules(rules, sources=None, refs=None):
    """One message per failed rule, in rule order, without repeats."""
    failed = failed_rules(rules, sources, refs)
    out = []
    for entry in failed:
        if not _consequence(entry, failed, refs or {}) and entry[3] not in out:
            out.append(entry[3])
    return out


def spec_error_var(text):
    """The variable an argument-spec error names, or None."""
    match = _SPEC_NAME.search(text)
    if not match:
        return None
    return next(g for g in match.groups() if g)


def reblame_spec_errors(errors, values, refs, sources, skip=()):
    """argument-spec errors with the variable renamed as blame() says; errors about names in skip are left out."""
    out = []
    for text in errors or []:
        text = str(text)
        var = spec_error_var(text)
        if var is None:
            out.append(text)
            continue
        name = blame(var, values.get(var), refs, sources) if var in values else var
        if var in skip or name in skip:
            continue
        if name != var:
            text = re.sub(r"\b%s\b" % re.escape(var), name, text)
        if text not in out:
            out.append(text)
    return out


def input_errors(rules, sources=None, spec_errors=None, spec_values=None, refs=None):
    """Messages of the failed rules, then the argument-spec errors about variables no rule reported."""
    refs = refs if refs is not None else collection_references()
    sources = sources or {}
    failed = failed_rules(rules, sources, refs)
    messages = check_rules(rules, sources, refs)
    reported = set(e[0] for e in failed) | set(e[1] for e in failed)
    extra = reblame_spec_errors(spec_errors, spec_values or {}, refs, sources, skip=reported)
    return messages + [m for m in extra if m not in messages]


_CACHE = {}


def collection_references(roles_dir=None):
    """references() over every role's defaults/main.yml in this collection (read once)."""
    if roles_dir is None:
        roles_dir = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")
    if roles_dir not in _CACHE:
        texts = []
        for path in sorted(glob.glob(os.path.join(roles_dir, "*", "defaults", "main.yml"))):
            with open(path) as handle:
                texts.append(handle.read())
        _CACHE[roles_dir] = references(texts)
    return _CACHE[roles_dir]
