"""The validate_workflow_options filter and valid_workflow_options test (plugins/module_utils/workflow_options.py)."""
import copy
import importlib.util
import os
import sys

import pytest
from ansible.errors import AnsibleError, AnsibleFilterError
from hypothesis import HealthCheck, given, settings, strategies as st

_ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "plugins")


def _load(name, *parts):
    spec = importlib.util.spec_from_file_location(name, os.path.join(_ROOT, *parts))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


wo = _load("workflow_options", "module_utils", "workflow_options.py")
LISTS = wo.ATTRIBUTES[1:]
EMPTY = {"currentVersion": None, "upgradeOptions": [], "migrationOptions": [], "newOptions": [],
         "continuationOptions": [], "otherOptions": []}
# Few examples, no example database, and no timing checks on a loaded CI machine.
PROPERTY = settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(name="plugins")
def fixture_plugins(monkeypatch):
    """The filter and test plugin files, with their collection import answered by the module loaded above."""
    monkeypatch.setitem(sys.modules, "ansible_collections.rhdh.orchestrator.plugins.module_utils.workflow_options", wo)
    flt = _load("workflow_options_filter", "filter", "workflow_options.py").FilterModule().filters()
    tst = _load("workflow_options_test", "test", "workflow_options.py").TestModule().tests()
    return flt["validate_workflow_options"], tst["valid_workflow_options"]


def errors(data, **options):
    return wo.validate(data, **options)[1]


def opt(id_, name):
    return {"id": id_, "name": name}


@pytest.mark.parametrize("data, options, expected", [
    ([opt("a", "A")], {}, ["workflowOptions: expected an object, got list"]),
    ({"workflowOptions": None, "other": 1}, {}, ["workflowOptions: expected an object, got null"]),
    ({"currentVersion": [opt("a", "A")]}, {},
     ["workflowOptions.currentVersion: expected an object with id and name, got list"]),
    ({"newOptions": opt("a", "A")}, {}, ["workflowOptions.newOptions: expected a list of objects with id and name, got object"]),
    ({"otherOptions": ["a", 1]}, {}, ["workflowOptions.otherOptions[0]: expected an object with id and name, got string",
                                      "workflowOptions.otherOptions[1]: expected an object with id and name, got number"]),
    ({"migrationOptions": [opt("a", "A"), opt("b", "B"), {"id": "c"}]}, {}, ["workflowOptions.migrationOptions[2].name: missing"]),
    ({"upgradeOptions": [opt("", "A"), opt(" \t", "B"), opt(3, None), opt(True, ["x"])]}, {},
     ["workflowOptions.upgradeOptions[0].id: empty", "workflowOptions.upgradeOptions[1].id: empty",
      "workflowOptions.upgradeOptions[2].id: expected a non-empty string, got number",
      "workflowOptions.upgradeOptions[2].name: expected a non-empty string, got null",
      "workflowOptions.upgradeOptions[3].id: expected a non-empty string, got bool",
      "workflowOptions.upgradeOptions[3].name: expected a non-empty string, got list"]),
    ({"currentVersion": {"Id": "a", "nme": "A", "description": "d"}}, {},
     ["workflowOptions.currentVersion.id: missing (found Id)", "workflowOptions.currentVersion.name: missing (found nme)",
      "workflowOptions.currentVersion.Id: unknown key; did you mean id?",
      "workflowOptions.currentVersion.description: unknown key",
      "workflowOptions.currentVersion.nme: unknown key; did you mean name?"]),
    ({"currentVersion": {" id": "a", "name": "A", 5: 1}}, {},
     ['workflowOptions.currentVersion.id: missing (found " id")',
      'workflowOptions.currentVersion[" id"]: unknown key; did you mean id?', "workflowOptions.currentVersion[5]: unknown key"]),
    ({"migrateOptions": [], "currentversion": opt("a", "A"), "foo": 1, "my key": 2, 3: 4}, {},
     ['workflowOptions.currentversion: unknown attribute; did you mean currentVersion?',
      'workflowOptions.foo: unknown attribute',
      'workflowOptions.migrateOptions: unknown attribute; did you mean migrationOptions?',
      'workflowOptions["my key"]: unknown attribute', "workflowOptions[3]: unknown attribute"]),
    ({"migrateOptions": [], "currentVersion": None}, {"required": ["currentVersion", "migrationOptions"], "allow_unknown": True},
     ["workflowOptions.currentVersion: required, got null", "workflowOptions.migrationOptions: missing (found migrateOptions)"]),
    ({}, {"required": "all"}, ["workflowOptions.%s: missing" % a for a in wo.ATTRIBUTES]),
    ({"newOptions": [opt("greting", "G"), opt("zzz", "Z")]}, {"deployed_ids": ["greeting"] + ["w%02d" % i for i in range(11)]},
     ['workflowOptions.newOptions[0].id: "greting" is not a deployed workflow; did you mean greeting? '
      "(deployed: greeting, w00, w01, w02, w03, w04, w05, w06, w07, w08 and 2 more)",
      'workflowOptions.newOptions[1].id: "zzz" is not a deployed workflow (deployed: greeting, w00, w01, w02, w03, w04, '
      "w05, w06, w07, w08 and 2 more)"]),
    ({"currentVersion": opt("a", "A")}, {"deployed_ids": []}, ['workflowOptions.currentVersion.id: "a" is not a deployed workflow (deployed: none)']),
])
def test_every_rule_and_its_message(data, options, expected):
    assert errors(data, **options) == expected


def test_all_errors_at_once_in_an_order_that_does_not_follow_the_keys(plugins):
    data = {"zzz": 1, "otherOptions": [{"nme": "x", "id": "x"}], "migrateOptions": [], "currentVersion": [],
            "newOptions": [opt("a", "")]}
    expected = ["workflowOptions.currentVersion: expected an object with id and name, got list",
                "workflowOptions.newOptions[0].name: empty",
                "workflowOptions.otherOptions[0].name: missing (found nme)",
                "workflowOptions.otherOptions[0].nme: unknown key; did you mean name?",
                "workflowOptions.migrateOptions: unknown attribute; did you mean migrationOptions?",
                "workflowOptions.zzz: unknown attribute"]
    assert errors(data) == errors(dict(reversed(list(data.items())))) == expected
    with pytest.raises(AnsibleFilterError) as exc:
        plugins[0]({"workflowOptions": data})
    assert str(exc.value).startswith("validate_workflow_options: workflowOptions is not valid (6 errors):\n- ")
    assert str(exc.value).split("\n")[1:] == ["- " + e for e in expected]


def test_normalized_result(plugins):
    flt, tst = plugins
    data = {"workflowOptions": {"currentVersion": opt(" greeting ", " Greeting\n"), "newOptions": [opt("b", "B")],
                                "otherOptions": None}, "result": "ignored"}
    before = copy.deepcopy(data)
    out = flt(data)
    assert out == dict(EMPTY, currentVersion=opt("greeting", "Greeting"), newOptions=[opt("b", "B")])
    assert list(out) == list(wo.ATTRIBUTES)
    assert flt({}) == EMPTY and flt(out) == out and data == before
    extra = {"currentVersion": dict(opt("a", "A"), icon={"x": [1]}), "customOptions": [opt("c", "C")]}
    out = flt(extra, allow_unknown=True, deployed_ids=(d for d in ["a", " c "]))  # Jinja's map gives a generator
    assert out == dict(EMPTY, currentVersion=dict(opt("a", "A"), icon={"x": [1]}), customOptions=[opt("c", "C")])
    out["currentVersion"]["icon"]["x"].append(2)
    assert extra["currentVersion"]["icon"] == {"x": [1]}
    assert tst(data) is True and tst(extra) is False and tst(extra, allow_unknown=True) is True
    assert tst("text") is False and tst(None) is False and tst(data, deployed_ids=["other"]) is False


@pytest.mark.parametrize("options, message", [
    ({"allow_unknown": "yes"}, "allow_unknown: expected true or false, got string"),
    ({"required": ["migrateOptions"]}, 'required: "migrateOptions" is not an attribute of workflowOptions; did you mean '
     "migrationOptions? (attributes: currentVersion, upgradeOptions, migrationOptions, newOptions, continuationOptions, "
     "otherOptions, or all)"),
    ({"required": True}, "required: expected a list of attribute names or all, got bool"),
    ({"deployed_ids": "greeting"}, "deployed_ids: expected a list of workflow ids, got string"),
    ({"deployed_ids": ["a", None]}, "deployed_ids[1]: expected a workflow id (string), got null"),
])
def test_bad_options_raise_in_the_filter_and_in_the_test(plugins, options, message):
    flt, tst = plugins
    with pytest.raises(AnsibleFilterError, match="^validate_workflow_options: ") as exc:
        flt({}, **options)
    assert str(exc.value).endswith(message)
    with pytest.raises(AnsibleError) as exc:
        tst("not even a mapping", **options)
    assert str(exc.value) == "valid_workflow_options: " + message


# Property-based: generated valid structures, single mutations of them, and arbitrary junk.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8).map(str.strip).filter(bool)
IDS = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
OPTION = st.builds(opt, IDS, TEXT)
VALID = st.fixed_dictionaries(dict([("currentVersion", OPTION)] + [(a, st.lists(OPTION, max_size=3)) for a in LISTS]))
PADDING = st.sampled_from(["", " ", "\t", "\n ", "\u00a0"])


def _all_ids(options):
    return [options["currentVersion"]["id"]] + [o["id"] for a in LISTS for o in options[a]]


@PROPERTY
@given(VALID, st.sets(st.sampled_from(wo.ATTRIBUTES)), PADDING, PADDING, st.booleans())
def test_valid_structures_normalize_to_themselves_and_are_idempotent(options, dropped, left, right, wrapped):
    assert wo.normalize(options, required="all", deployed_ids=_all_ids(options)) == options
    given_ = copy.deepcopy(options)
    for attribute in dropped:
        del given_[attribute]
    for option in [given_.get("currentVersion") or {}] + [o for a in LISTS for o in given_.get(a, [])]:
        for key in option:
            option[key] = left + option[key] + right
    expected = dict(options, **dict((a, EMPTY[a]) for a in dropped))
    out = wo.normalize({"workflowOptions": given_} if wrapped else given_)
    assert out == expected and wo.normalize(out) == out and wo.is_valid(out, required=LISTS)


def _near_miss(name, draw):
    how = draw(st.sampled_from(["case", "drop", "swap"]))
    if how == "case" or (how == "swap" and len(name) < 3):  # "di" is no near miss of "id"
        return draw(st.sampled_from([name.upper(), name.capitalize(), name.lower()]).filter(lambda n: n != name))
    i = draw(st.integers(0, len(name) - 2))
    return name[:i] + name[i + 1:] if how == "drop" else name[:i] + name[i + 1] + name[i] + name[i + 2:]


@PROPERTY
@given(VALID, st.data())
def test_a_single_mutation_is_reported_at_its_path(options, data):
    bad = copy.deepcopy(options)
    spots = [("currentVersion", None)] + [(a, i) for a in LISTS for i in range(len(bad[a]))]
    attribute, index = data.draw(st.sampled_from(spots))
    target = bad[attribute] if index is None else bad[attribute][index]
    path = "workflowOptions." + attribute + ("" if index is None else "[%d]" % index)
    key = data.draw(st.sampled_from(wo.OPTION_KEYS))
    mutation = data.draw(st.sampled_from(["drop", "empty", "type", "rename key", "rename attribute"]))
    if mutation == "drop":
        del target[key]
        expected = ["%s.%s: missing" % (path, key)]
    elif mutation == "empty":
        target[key] = data.draw(PADDING)
        expected = ["%s.%s: empty" % (path, key)]
    elif mutation == "type":
        target[key] = data.draw(st.one_of(st.none(), st.integers(), st.lists(TEXT, max_size=2)))
        expected = ["%s.%s: expected a non-empty string, got %s" % (path, key, wo.kind(target[key]))]
    elif mutation == "rename key":
        new = _near_miss(key, data.draw)
        target[new] = target.pop(key)
        expected = ["%s.%s: missing (found %s)" % (path, key, new), "%s.%s: unknown key; did you mean %s?" % (path, new, key)]
    else:
        new = _near_miss(attribute, data.draw)
        bad[new] = bad.pop(attribute)
        path = "workflowOptions." + attribute
        expected = ["workflowOptions.%s: unknown attribute; did you mean %s?" % (new, attribute)]
        assert wo.normalize(bad, allow_unknown=True) == dict(options, **{attribute: EMPTY[attribute], new: options[attribute]})
    assert errors(bad) == expected
    # Tolerating unknown keys, the error is where the expected key is missing.
    assert errors(bad, required="all", allow_unknown=True)[0].startswith(path + ("" if index is None or mutation == "rename attribute" else "."))


LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=3), TEXT)
OPTIONISH = st.dictionaries(st.sampled_from(["id", "name", "Id", "nme", " id", "x"]) | st.text(max_size=3), LEAF, max_size=4)
VALUE = st.one_of(LEAF, OPTIONISH, st.lists(st.one_of(OPTIONISH, LEAF), max_size=3))
JUNK = st.one_of(VALUE, st.dictionaries(st.sampled_from(wo.ATTRIBUTES + ("migrateOptions", "currentversion")) | st.text(max_size=4),
                                        VALUE, max_size=7))


def _shuffled(value, rnd):
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return dict((k, _shuffled(v, rnd)) for k, v in items)
    if isinstance(value, list):
        return [_shuffled(v, rnd) for v in value]
    return value


@PROPERTY
@given(JUNK, st.randoms(use_true_random=False), st.booleans())
def test_errors_depend_only_on_the_data_and_anything_is_answered(junk, rnd, allow_unknown):
    out, found = wo.validate(junk, allow_unknown=allow_unknown)
    assert wo.validate(_shuffled(junk, rnd), allow_unknown=allow_unknown) == (out, found)
    assert (out is None) == bool(found) and wo.is_valid(junk, allow_unknown=allow_unknown) == (not found)
    assert out is None or wo.normalize(out, allow_unknown=allow_unknown) == out
