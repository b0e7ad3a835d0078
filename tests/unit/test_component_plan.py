"""The component_plan filter: order, waves, selection, failures and every error it names."""
import importlib.util
import os
import re
import subprocess

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_SPEC = importlib.util.spec_from_file_location("component_plan", os.path.join(REPO, "plugins", "module_utils", "component_plan.py"))
cp = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(cp)

STACK = {
    "postgres": {"role": "rhdh.orchestrator.postgres", "namespace": "sonataflow-infra"},
    "serverless": {"role": "rhdh.orchestrator.serverless"},
    "sonataflow": {"role": "rhdh.orchestrator.sonataflow", "depends_on": ["postgres", "serverless"]},
    "rhdh": {"role": "rhdh.orchestrator.rhdh", "depends_on": ["sonataflow"]},
    "gitops": {"role": "rhdh.orchestrator.gitops", "enabled": "no"},
    "my-workflows": {"chart": {"name": "my-workflows", "repo": "https://charts.example.com"}, "depends_on": ["sonataflow", "rhdh"]},
    "notify": {"chart": "acme/notify", "depends_on": ["rhdh"], "enabled": "yes"},
}


def errors(*args, **kwargs):
    with pytest.raises(cp.ComponentPlanError) as exc:
        cp.plan(*args, **kwargs)
    return exc.value.problems


def test_stack_plan_in_dict_and_list_form():
    plan = cp.plan(STACK)
    assert plan["order"] == ["postgres", "serverless", "sonataflow", "rhdh", "my-workflows", "notify"]
    assert plan["removal_order"] == plan["order"][::-1]
    assert plan["waves"] == [["postgres", "serverless"], ["sonataflow"], ["rhdh"], ["my-workflows", "notify"]]
    assert plan["removal_waves"] == [["notify", "my-workflows"], ["rhdh"], ["sonataflow"], ["serverless", "postgres"]]
    assert plan["run"] == plan["selected"] == plan["order"]
    assert plan["skipped"] == [{"name": "gitops", "reason": "disabled"}]
    assert plan["dependencies"]["rhdh"] == ["postgres", "serverless", "sonataflow"]
    assert plan["dependents"]["sonataflow"] == ["rhdh", "my-workflows", "notify"]
    assert plan["blocked"] == plan["failed"] == []
    # Extra fields pass through untouched (same objects); the known ones come back normalised.
    assert plan["components"]["my-workflows"]["chart"] is STACK["my-workflows"]["chart"]
    assert plan["components"]["gitops"] == {"role": "rhdh.orchestrator.gitops", "enabled": False, "name": "gitops", "depends_on": []}
    assert plan["components"]["notify"]["enabled"] is True and "name" not in STACK["notify"]
    assert list(plan["components"]) == list(STACK)
    as_list = [dict(spec, name=name) for name, spec in STACK.items()]
    assert cp.plan(as_list) == plan
    absent = cp.plan(STACK, state=" Absent ")
    assert absent["run"] == plan["removal_order"] and absent["state"] == "absent"


def test_ties_follow_the_input_order_and_a_valid_input_order_is_kept():
    # The collection's own order (site.yml): independent components stay where the user put them.
    comps = [{"name": "postgres"}, {"name": "serverless"}, {"name": "sonataflow", "depends_on": ["postgres", "serverless"]},
             {"name": "rhdh", "depends_on": ["sonataflow"]}, {"name": "workflow_namespace", "depends_on": ["rhdh"]},
             {"name": "gitops"}, {"name": "workflows", "depends_on": ["sonataflow", "rhdh"]}]
    plan = cp.plan(comps)
    assert plan["order"] == [c["name"] for c in comps]
    assert plan["waves"] == [["postgres", "serverless", "gitops"], ["sonataflow"], ["rhdh"], ["workflow_namespace", "workflows"]]
    # A dependency declared later in the input moves just before its first dependent.
    assert cp.plan([{"name": "b", "depends_on": ["c"]}, {"name": "a"}, {"name": "c"}])["order"] == ["a", "c", "b"]
    assert cp.plan({"z": None, "y": {}, "x": {"depends_on": None}})["order"] == ["z", "y", "x"]


@pytest.mark.parametrize("value, enabled", [
    (None, True), (True, True), (False, False), ("true", True), ("False", False), ("yes", True), (" NO ", False),
    ("on", True), ("off", False), ("1", True), (0, False), (1, True)])
def test_enabled_takes_survey_strings(value, enabled):
    plan = cp.plan([{"name": "a", "enabled": value}, {"name": "b"}])
    assert plan["components"]["a"]["enabled"] is enabled
    assert plan["order"] == (["a", "b"] if enabled else ["b"])
    assert plan["skipped"] == ([] if enabled else [{"name": "a", "reason": "disabled"}])


def test_selection_with_targets():
    present = cp.plan(STACK, targets=["rhdh"])
    assert present["run"] == ["postgres", "serverless", "sonataflow", "rhdh"]
    assert present["waves"] == [["postgres", "serverless"], ["sonataflow"], ["rhdh"]]
    assert present["skipped"] == [{"name": "gitops", "reason": "disabled"},
                                  {"name": "my-workflows", "reason": "not selected: neither a target nor needed by one"},
                                  {"name": "notify", "reason": "not selected: neither a target nor needed by one"}]
    # dependents reach outside the selection: they tell what runs on a component.
    assert present["dependents"]["rhdh"] == ["my-workflows", "notify"]
    absent = cp.plan(STACK, state="absent", targets="sonataflow")  # a survey answer is a string
    assert absent["run"] == ["notify", "my-workflows", "rhdh", "sonataflow"]
    assert absent["removal_waves"] == [["notify", "my-workflows"], ["rhdh"], ["sonataflow"]]
    assert absent["dependencies"]["rhdh"] == ["postgres", "serverless", "sonataflow"]
    alone = cp.plan(STACK, targets="rhdh, postgres", include_dependencies="false")
    assert alone["run"] == ["postgres", "rhdh"] and alone["waves"] == [["postgres", "rhdh"]]
    assert cp.plan(STACK, state="absent", targets=["sonataflow"], include_dependencies=False)["run"] == ["sonataflow"]
    assert cp.plan(STACK, targets=[])["run"] == cp.plan(STACK, targets="")["run"] == cp.plan(STACK)["run"]


def test_failed_blocks_dependents_when_installing_and_dependencies_when_removing():
    plan = cp.plan(STACK, failed=["serverless"])
    assert plan["blocked"] == ["sonataflow", "rhdh", "my-workflows", "notify"]
    assert [n for n in plan["run"] if n not in plan["blocked"] + plan["failed"]] == ["postgres"]
    assert cp.plan(STACK, failed=["rhdh", "my-workflows"])["blocked"] == ["notify"]
    assert cp.plan(STACK, targets=["rhdh"], failed="postgres")["blocked"] == ["sonataflow", "rhdh"]
    # A removal that failed leaves the component in place: what it runs on must stay too.
    removal = cp.plan(STACK, state="absent", failed=["rhdh"])
    assert removal["blocked"] == ["sonataflow", "serverless", "postgres"]


@pytest.mark.parametrize("components, kwargs, problem", [
    ([{"name": "workflows", "depends_on": ["gitops"]}, {"name": "gitops", "enabled": False}], {},
     "workflows depends on gitops, which is disabled: enable gitops or drop the dependency"),
    ([{"name": "rhdh", "depends_on": ["postgress"]}, {"name": "postgres"}], {},
     "rhdh depends on postgress, which is not a component (did you mean postgres?)"),
    ([{"name": "rhdh", "depends_on": ["zzz"]}], {}, "rhdh depends on zzz, which is not a component"),
    ([{"name": "rhdh", "enabled": False, "depends_on": ["zzz"]}], {}, "rhdh depends on zzz, which is not a component"),
    ([{"name": "rhdh"}], {"targets": ["rdhh"]}, "targets: rdhh is not a component (did you mean rhdh?)"),
    ([{"name": "rhdh"}, {"name": "gitops", "enabled": "no"}], {"targets": ["gitops"]},
     "targets: gitops is disabled: enable gitops or drop it from targets"),
    ([{"name": "rhdh"}], {"failed": ["rhd"]}, "failed: rhd is not a component (did you mean rhdh?)"),
    ([{"name": "rhdh"}, {"name": "gitops", "enabled": False}], {"failed": ["gitops"]}, "failed: gitops is disabled, so it did not run"),
    ([{"name": "a"}, {"name": "a"}], {}, "duplicate component name a: declared twice, keep one"),
    ([{"name": "a", "depends_on": "b"}, {"name": "b"}], {}, "a: depends_on must be a list of component names, got str 'b'"),
    ([{"name": "a", "depends_on": [{"name": "b"}]}], {}, "a: depends_on items must be component names, got dict {'name': 'b'}"),
    ([{"name": "a", "enabled": "maybe"}], {}, "a: enabled must be a boolean (true/false/yes/no), got 'maybe'"),
    ([{"name": "My_App"}], {}, "component #1: name 'My_App' must be 1-63 lowercase letters, digits, '-' or '_', "
                               "starting and ending with a letter or digit"),
    ([{"depends_on": []}], {}, "component #1 has no name"),
    (["rhdh"], {}, "component #1 must be a mapping with a name, got str"),
    ({"a": ["b"]}, {}, "component a: its spec must be a mapping, got list"),
    ({"a": {"name": "b"}}, {}, "component a: its name 'b' differs from its key: drop the name or make them equal"),
    ([{"name": "a"}], {"state": "installed"}, "state must be present or absent, got 'installed'"),
    ([{"name": "a"}], {"targets": {"a": 1}}, "targets must be a list of component names, got dict"),
    ([{"name": "a"}], {"include_dependencies": "sometimes"}, "include_dependencies must be a boolean (true/false/yes/no), got 'sometimes'"),
    ([{"name": "a", "depends_on": ["b"]}, {"name": "b", "depends_on": ["c"]}, {"name": "c", "depends_on": ["a"]}], {},
     "dependency cycle: a -> b -> c -> a (each depends on the next)"),
    ([{"name": "x"}, {"name": "c", "depends_on": ["a"]}, {"name": "a", "depends_on": ["c"]}], {},
     "dependency cycle: c -> a -> c (each depends on the next)"),
    ([{"name": "a", "depends_on": ["a"]}], {}, "dependency cycle: a -> a (a depends on itself)"),
])
def test_each_rule_names_the_component(components, kwargs, problem):
    assert errors(components, **kwargs) == [problem]


def test_every_problem_at_once():
    comps = [{"name": "a", "depends_on": ["b"]}, {"name": "b", "depends_on": ["a"]}, {"name": "c", "depends_on": ["d", "c"]},
             {"name": "d", "depends_on": ["c"]}, {"name": "e", "depends_on": ["gitops", "ghost"]},
             {"name": "gitops", "enabled": False}, {"name": "e"}, {"name": "f", "enabled": "maybe"}, {"name": "g", "depends_on": ["f"]}]
    problems = errors(comps, targets=["nope"])
    assert problems == [
        "duplicate component name e: declared twice, keep one",
        "f: enabled must be a boolean (true/false/yes/no), got 'maybe'",
        "e depends on gitops, which is disabled: enable gitops or drop the dependency",
        "e depends on ghost, which is not a component",
        "targets: nope is not a component",
        "dependency cycle: c -> c (c depends on itself)",
        "dependency cycle: a -> b -> a (each depends on the next)",
        "dependency cycle: c -> d -> c (each depends on the next)",
    ]
    assert str(cp.ComponentPlanError(problems)).startswith("component_plan: 8 problems:\n- duplicate")
    with pytest.raises(cp.ComponentPlanError, match="must be a list of mappings or a dict"):
        cp.plan("postgres,rhdh")


def test_filter_in_a_playbook(tmp_path):
    """ansible-core's templating (tagged values, survey strings) reaches the filter and its error."""
    tasks = [
        {"name": "plan", "ansible.builtin.set_fact": {
            "plan": "{{ comps | rhdh.orchestrator.component_plan(state=st, targets=tg, failed=['serverless']) }}"},
         "vars": {"st": "absent", "tg": "sonataflow"}},
        {"name": "check", "ansible.builtin.assert": {"that": [
            "plan.run == ['notify', 'my-workflows', 'rhdh', 'sonataflow']", "plan.blocked == []",
            "plan.components['my-workflows'].chart.repo == 'https://charts.example.com'"]}},
        {"name": "bad", "ansible.builtin.debug": {"msg": "{{ [{'name': 'a', 'depends_on': ['b']}, {'name': 'b', 'depends_on': ['a']}]"
                                                         " | rhdh.orchestrator.component_plan }}"},
         "register": "bad", "ignore_errors": True},
        {"name": "check the error", "ansible.builtin.assert": {"that": ["'dependency cycle: a -> b -> a' in bad.msg"]}},
    ]
    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "connection": "local",
                                     "vars": {"comps": STACK}, "tasks": tasks}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"))
    res = subprocess.run([os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "-i", "localhost,", str(play)],
                         capture_output=True, text=True, env=env, cwd=REPO, check=False)
    assert res.returncode == 0 and "failed=0" in res.stdout and "ignored=1" in res.stdout, res.stdout + res.stderr


# ---- properties over random graphs -------------------------------------------------------------

@st.composite
def dags(draw, max_size=9):
    """(components in a random input order, edges as name -> set of direct dependencies) of a random DAG."""
    size = draw(st.integers(1, max_size))
    names = ["c%d" % i for i in range(size)]
    deps = dict((n, set()) for n in names)
    for j in range(size):
        for i in range(j):
            if draw(st.booleans()):
                deps[names[j]].add(names[i])  # only to earlier names: acyclic
    shuffled = draw(st.permutations(names))
    comps = [{"name": n, "depends_on": sorted(deps[n], reverse=True)} for n in shuffled]
    return comps, deps


def reach(start, edges):
    seen, todo = set(), list(start)
    while todo:
        for nxt in edges[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def reverse(deps):
    out = dict((n, set()) for n in deps)
    for n, ds in deps.items():
        for d in ds:
            out[d].add(n)
    return out


# No example database (a failure prints the blob that replays it); hypothesis' other caches go to the
# ignored .build/, not into the checkout.
set_hypothesis_home_dir(os.path.join(REPO, ".build", "hypothesis"))
PROPS = settings(max_examples=100, deadline=None, database=None, print_blob=True)


@PROPS
@given(dags(), st.data())
def test_order_waves_and_reverse_respect_every_edge(graph, data):
    comps, deps = graph
    plan = cp.plan(comps)
    pos = dict((n, i) for i, n in enumerate(plan["order"]))
    assert sorted(pos) == sorted(deps)
    assert all(pos[d] < pos[n] for n in deps for d in deps[n])
    assert plan["removal_order"] == plan["order"][::-1] and plan["run"] == plan["order"]
    waves = plan["waves"]
    flat = [n for w in waves for n in w]
    assert sorted(flat) == sorted(plan["selected"]) and len(flat) == len(set(flat))
    level = dict((n, k) for k, w in enumerate(waves) for n in w)
    inputs = [c["name"] for c in comps]
    for k, wave in enumerate(waves):
        assert wave == sorted(wave, key=inputs.index)  # input order within a wave
        for n in wave:
            assert all(level[d] < k for d in deps[n])
            assert k == 0 or any(level[d] == k - 1 for d in deps[n])  # graphlib's ready batches: as early as possible
    assert plan["removal_waves"] == [w[::-1] for w in waves[::-1]]
    # Another input order: the same waves as sets, selection and closures; a topological input order is kept.
    other = data.draw(st.permutations(comps))
    again = cp.plan(other)
    assert [set(w) for w in again["waves"]] == [set(w) for w in waves]
    assert dict((n, set(v)) for n, v in again["dependencies"].items()) == dict((n, reach([n], deps)) for n in deps)
    assert dict((n, set(v)) for n, v in again["dependents"].items()) == dict((n, reach([n], reverse(deps))) for n in deps)
    topo = sorted(comps, key=lambda c: pos[c["name"]])
    assert cp.plan(topo)["order"] == plan["order"]
    assert cp.plan(other) == again  # same input, same plan


@PROPS
@given(dags(), st.data())
def test_closing_a_loop_names_a_real_cycle(graph, data):
    comps, deps = graph
    names = sorted(deps)
    low = data.draw(st.sampled_from(names))
    below = sorted(reach([low], reverse(deps)) | {low})  # low itself or something that (transitively) depends on it
    high = data.draw(st.sampled_from(below))
    for comp in comps:
        if comp["name"] == low:
            comp["depends_on"] = comp["depends_on"] + [high]  # closes high -> ... -> low -> high
    deps[low].add(high)
    problems = errors(comps)
    assert problems and all(p.startswith("dependency cycle: ") for p in problems)
    for problem in problems:
        path = re.match(r"dependency cycle: (.*?) \(", problem).group(1).split(" -> ")
        assert path[0] == path[-1] and len(set(path[:-1])) == len(path) - 1
        assert all(b in deps[a] for a, b in zip(path, path[1:])), problem
        assert (low, high) in list(zip(path, path[1:]))  # the rest was acyclic: every cycle takes the new edge


@PROPS
@given(dags(), st.data())
def test_selection_closures_and_blocked(graph, data):
    comps, deps = graph
    names = sorted(deps)
    rdeps = reverse(deps)
    targets = data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
    failed = data.draw(st.lists(st.sampled_from(names), unique=True))
    for state, closure, opposite in (("present", deps, rdeps), ("absent", rdeps, deps)):
        plan = cp.plan(comps, state=state, targets=targets, failed=failed)
        sel = set(plan["selected"])
        assert sel == set(targets) | reach(targets, closure)
        assert all(closure[n] <= sel for n in sel)  # closed: nothing needed is left out
        assert sorted(plan["run"]) == sorted(sel)
        run_pos = dict((n, i) for i, n in enumerate(plan["run"]))
        assert all(run_pos[d] < run_pos[n] for n in sel for d in closure[n])
        assert set(plan["blocked"]) == (reach(failed, opposite) & sel) - set(failed)
        assert [s["name"] for s in plan["skipped"]] == [c["name"] for c in comps if c["name"] not in sel]
        alone = cp.plan(comps, state=state, targets=targets, include_dependencies=False)
        assert set(alone["selected"]) == set(targets)
