"""The AWX survey specs of docs/awx/ match the collection's variables.

Each docs/awx/survey-*.json is a body the AWX API accepts at
/api/v2/job_templates/<id>/survey_spec/. Every question asks for a variable
the collection reads: a role option (meta/argument_specs.yml) or a flat
orchestrator_* variable that role defaults or the site playbooks read through
`| default(...)`. The answers must be ones the roles accept: a
multiple-choice question offers only the choices of the option it feeds (or
"true"/"false" for a boolean, which every use passes through `| bool`), an
integer question feeds int options, a password question feeds no_log options,
and the survey default is the collection's default.
"""
import glob
import importlib.util
import json
import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SURVEYS = sorted(glob.glob(os.path.join(ROOT, "docs", "awx", "survey-*.json")))
TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}
SPEC_TYPE = {"text": {"str", "path", "raw"}, "textarea": {"str", "raw"}, "password": {"str"}, "integer": {"int"},
             "float": {"float", "int"}, "multiplechoice": {"str", "bool"}, "multiselect": {"list"}}
BOOL_CHOICES = {"true", "false"}


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _releases():
    spec = importlib.util.spec_from_file_location("releases", os.path.join(ROOT, "plugins", "module_utils", "releases.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.RELEASES


def _options():
    """{option name: [(role, spec)]} over every entry point of every role."""
    found = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml"))):
        role = path.split(os.sep)[-3]
        for entry in (yaml.safe_load(_read(path)).get("argument_specs") or {}).values():
            for name, spec in (entry.get("options") or {}).items():
                found.setdefault(name, []).append((role, spec))
    return found


def _sources():
    """(path, text) of the files that read the orchestrator_* variables: role defaults and vars, the site playbooks."""
    paths = glob.glob(os.path.join(ROOT, "roles", "*", "defaults", "main.yml")) + glob.glob(os.path.join(ROOT, "roles", "*", "vars", "main.yml"))
    paths += glob.glob(os.path.join(ROOT, "playbooks", "**", "*.yml"), recursive=True)
    return [(os.path.relpath(p, ROOT), _read(p)) for p in sorted(paths)]


def _followers(variable):
    """The role options whose default reads variable: what a survey answer for an orchestrator_* variable feeds."""
    names = []
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "defaults", "main.yml"))):
        for name, value in (yaml.safe_load(_read(path)) or {}).items():
            # `x is defined` only tests it; the option takes the answer when it reads the value.
            if isinstance(value, str) and re.search(rf"\b{variable}\b(?!\s+is\s)", value):
                names.append(name)
    return names


def _literal(text):
    text = text.strip()
    if text in ("true", "false", "True", "False"):
        return text.lower() == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    quoted = re.fullmatch(r"'([^']*)'|\"([^\"]*)\"", text)
    if quoted:
        return quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
    return None  # not a scalar literal: [] or an expression


def _as_survey(value):
    """A default as the survey would show it: booleans as "true"/"false"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


OPTIONS = _options()
SOURCES = _sources()
RELEASES = _releases()


def test_there_are_surveys_and_awx_md_names_them():
    names = {os.path.basename(p) for p in SURVEYS}
    assert {"survey-install.json", "survey-uninstall.json", "survey-status.json", "survey-diagnostics.json"} <= names
    doc = _read(os.path.join(ROOT, "docs", "awx.md"))
    assert not [n for n in names if f"docs/awx/{n}" not in doc], "docs/awx.md must name every survey file"


@pytest.mark.parametrize("path", SURVEYS, ids=os.path.basename)
def test_survey_spec_asks_only_for_what_the_collection_reads(path):  # pylint: disable=too-many-branches,too-many-locals,too-many-statements
    survey = json.loads(_read(path))
    problems = []
    if not isinstance(survey.get("name"), str) or not isinstance(survey.get("description"), str) or not isinstance(survey.get("spec"), list):
        problems.append("the AWX API needs name, description (strings) and spec (a list)")
    seen = set()
    for question in survey.get("spec") or []:
        var, kind = question.get("variable"), question.get("type")
        where = f"{var}:"
        missing = [k for k in ("question_name", "variable", "type", "required") if k not in question]
        if missing or kind not in TYPES or not isinstance(question.get("required"), bool):
            problems.append(f"{where} needs question_name, variable, type (one of {sorted(TYPES)}) and required (a boolean); {missing}")
            continue
        if var in seen:
            problems.append(f"{where} asked twice")
        seen.add(var)
        own = OPTIONS.get(var, [])
        fed = [spec for name in ([] if own else _followers(var)) for _role, spec in OPTIONS.get(name, [])]
        specs = [spec for _role, spec in own] + fed
        readers = [p for p, text in SOURCES if re.search(rf"\b{var}\s*\|\s*default\(", text)]
        if not own and not (var.startswith("orchestrator_") and readers):
            problems.append(f"{where} no role option and no orchestrator_* variable that roles or playbooks read")
            continue
        wrong_type = sorted({s.get("type", "str") for s in specs} - SPEC_TYPE[kind])
        if wrong_type:
            problems.append(f"{where} a {kind} question feeds options of type {wrong_type}")
        choices = question.get("choices")
        default = question.get("default")
        if kind in ("multiplechoice", "multiselect"):
            if isinstance(choices, str):
                choices = choices.split("\n")
            if not choices or not all(isinstance(c, str) for c in choices) or len(set(choices)) != len(choices):
                problems.append(f"{where} choices must be distinct strings: {choices!r}")
                continue
            for spec in specs:
                allowed = BOOL_CHOICES if spec.get("type") == "bool" else {str(c) for c in spec.get("choices") or []}
                if allowed and not set(choices) <= allowed:
                    problems.append(f"{where} choices {sorted(set(choices) - allowed)} are not among {sorted(allowed)}")
            if kind == "multiplechoice" and default not in choices:
                problems.append(f"{where} default {default!r} is not a choice")
            if set(choices) == BOOL_CHOICES and not specs:
                # A survey boolean is text: every read must convert it.
                unconverted = [p for p, text in SOURCES
                               for m in re.finditer(rf"\b{var}\s*\|\s*default\([^)]*\)(\s*\|\s*bool)?", text) if not m.group(1)]
                if unconverted:
                    problems.append(f"{where} read without `| bool` in {unconverted}")
        if var == "orchestrator_rhdh_version" and not set(choices or []) <= set(RELEASES):
            problems.append(f"{where} choices {choices} beyond the release matrix {sorted(RELEASES)}")
        if var == "orchestrator_targets":
            components = set()
            for _path, text in SOURCES:
                components |= set(re.findall(r"\{'name': '(\w+)', 'role': 'rhdh\.orchestrator\.", text))
            if not components or not set(choices or []) <= components:
                problems.append(f"{where} choices {sorted(set(choices or []) - components)} are not components of the site plan")
        if kind == "integer":
            low, high = question.get("min"), question.get("max")
            if not isinstance(default, int) or (isinstance(low, int) and default < low) or (isinstance(high, int) and default > high):
                problems.append(f"{where} integer default {default!r} outside min {low!r} / max {high!r}")
        if kind == "password" and not all(s.get("no_log") for s in specs):
            problems.append(f"{where} a password question feeds options without no_log")
        if kind in ("password", "multiselect"):
            continue
        # The survey default is the collection's default.
        expected = {_as_survey(s["default"]) for _role, s in own if "default" in s}
        for source, text in SOURCES:
            for literal in re.findall(rf"\b{var}\s*\|\s*default\(([^()]*)\)", text):
                value = _literal(literal)
                if value is not None:
                    expected.add(_as_survey(value))
                elif literal.strip() not in ("[]", "{}"):
                    problems.append(f"{where} {source} defaults it to `{literal.strip()}`, which depends on other input; "
                                    "a survey answer always overrides that: leave it to extra variables")
        if expected and {_as_survey(default)} != expected:
            problems.append(f"{where} survey default {default!r}, the collection's {sorted(map(str, expected))}")
    assert not problems, f"{os.path.relpath(path, ROOT)}:\n" + "\n".join(problems)
