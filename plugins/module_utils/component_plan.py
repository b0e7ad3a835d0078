# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dependency plan of the stack's components (the component_plan filter).

Components are the collection's roles and the user's own Helm-charted
applications. Each names what it depends on; this module checks the
declarations, orders the enabled components (graphlib), picks what a run
touches (targets plus what they need when installing, plus what needs them
when removing) and says what a failure blocks.

Determinism: every tie is broken by the position in the input (list order or
dict key order), never by hashing, so a plan prints the same way every run.
When the input order already respects every dependency, the install order is
the input order.

Pure Python without Ansible imports: the filter wraps it and the unit tests
load it directly.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import heapq
import re

from graphlib import CycleError, TopologicalSorter

STATES = ("present", "absent")
_NAME = re.compile(r"^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$")
_TRUE = frozenset(("true", "yes", "on", "y", "t", "1"))
_FALSE = frozenset(("false", "no", "off", "n", "f", "0"))
_MAX_CYCLES = 10


class ComponentPlanError(ValueError):
    """Every problem found in the declarations, one line each."""

    def __init__(self, problems):
        self.problems = list(problems)
        count = len(self.problems)
        head = "component_plan: %d problem%s" % (count, "" if count == 1 else "s")
        super(ComponentPlanError, self).__init__(head + ":\n" + "\n".join("- " + p for p in self.problems))


def to_bool(value, default):
    """Ansible-style boolean: real booleans, 0/1 and the usual survey strings; None is the default."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueError(value)


def _names(value):
    """A list of names; a string (an AWX survey answer) is split on commas and whitespace."""
    if value is None:
        return []
    if isinstance(value, str):
        return [n for n in re.split(r"[\s,]+", value) if n]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise TypeError(type(value).__name__)


def _hint(name, known):
    close = difflib.get_close_matches(name, known, n=1)
    return " (did you mean %s?)" % close[0] if close else ""


def _entries(components, problems):
    """(label, name, spec) for each input item, in input order."""
    if components is None:
        return []
    if isinstance(components, dict):
        entries = []
        for key, spec in components.items():
            if spec is None:
                spec = {}
            if not isinstance(spec, dict):
                problems.append("component %s: its spec must be a mapping, got %s" % (key, type(spec).__name__))
                continue
            if "name" in spec and spec["name"] != key:
                problems.append("component %s: its name %r differs from its key: drop the name or make them equal"
                                % (key, spec["name"]))
                continue
            entries.append((str(key), key, spec))
        return entries
    if isinstance(components, (list, tuple)):
        entries = []
        for index, spec in enumerate(components, 1):
            if not isinstance(spec, dict):
                problems.append("component #%d must be a mapping with a name, got %s" % (index, type(spec).__name__))
                continue
            if "name" not in spec:
                problems.append("component #%d has no name" % index)
                continue
            entries.append(("#%d" % index, spec["name"], spec))
        return entries
    raise ComponentPlanError(["components must be a list of mappings or a dict of name to spec, got %s"
                              % type(components).__name__])


def _normalise(components, problems):
    """name -> normalised spec (input order kept), enabled flags and where each name was declared."""
    specs = {}
    for label, name, spec in _entries(components, problems):
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append("component %s: name %r must be 1-63 lowercase letters, digits, '-' or '_', "
                            "starting and ending with a letter or digit" % (label, name))
            continue
        if name in specs:
            problems.append("duplicate component name %s: declared twice, keep one" % name)
            continue
        deps = spec.get("depends_on")
        if deps is None:
            deps = []
        elif not isinstance(deps, (list, tuple)):
            problems.append("%s: depends_on must be a list of component names, got %s %r"
                            % (name, type(deps).__name__, deps))
            deps = []
        clean = []
        for dep in deps:
            if not isinstance(dep, str):
                problems.append("%s: depends_on items must be component names, got %s %r" % (name, type(dep).__name__, dep))
            elif dep not in clean:
                clean.append(dep)
        try:
            enabled = to_bool(spec.get("enabled"), True)
        except ValueError:
            problems.append("%s: enabled must be a boolean (true/false/yes/no), got %r" % (name, spec.get("enabled")))
            enabled = True  # checked as enabled, so its dependents get no second, misleading message
        out = dict(spec)
        out.update(name=name, depends_on=clean, enabled=enabled)
        specs[name] = out
    return specs


def _check_dependencies(specs, problems):
    """Edges between enabled components: name -> its direct dependencies."""
    known = list(specs)
    graph = {}
    for name, spec in specs.items():
        if not spec["enabled"]:
            for dep in spec["depends_on"]:
                if dep not in specs:
                    problems.append("%s depends on %s, which is not a component%s" % (name, dep, _hint(dep, known)))
            continue
        graph[name] = []
        for dep in spec["depends_on"]:
            if dep not in specs:
                problems.append("%s depends on %s, which is not a component%s" % (name, dep, _hint(dep, known)))
            elif not specs[dep]["enabled"]:
                problems.append("%s depends on %s, which is disabled: enable %s or drop the dependency" % (name, dep, dep))
            else:
                graph[name].append(dep)
    return graph


def _cycles(graph, position):
    """Dependency cycles as paths, each read 'depends on' left to right and starting at its earliest component.

    graphlib names one cycle per failed prepare(); dropping that cycle's last
    edge and asking again finds the others (each one a real cycle of the
    declared graph, since only edges are ever dropped).
    """
    graph = dict((name, list(deps)) for name, deps in graph.items())
    found = []
    while len(found) < _MAX_CYCLES:
        sorter = TopologicalSorter()
        for name, deps in graph.items():
            sorter.add(name, *deps)
        try:
            sorter.prepare()
            return found, False
        except CycleError as exc:
            # graphlib walks from a component to one that depends on it.
            path = list(reversed(exc.args[1][:-1]))
        start = min(range(len(path)), key=lambda i: position[path[i]])
        path = path[start:] + path[:start]
        found.append(path + [path[0]])
        graph[path[-1]].remove(path[0])
    return found, True


def _closure(start, edges):
    seen = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        for nxt in edges[name]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _install_order(graph, position):
    """A topological order that takes, of the components ready, always the earliest in the input."""
    sorter = TopologicalSorter(graph)
    sorter.prepare()
    ready = [(position[n], n) for n in sorter.get_ready()]
    heapq.heapify(ready)
    order = []
    while ready:
        name = heapq.heappop(ready)[1]
        order.append(name)
        sorter.done(name)
        for nxt in sorter.get_ready():
            heapq.heappush(ready, (position[nxt], nxt))
    return order


def _waves(graph, selection, position):
    """graphlib's ready batches over the selection (dependencies outside it count as met), each in input order."""
    sorter = TopologicalSorter()
    for name in selection:
        sorter.add(name, *[d for d in graph[name] if d in selection])
    sorter.prepare()
    waves = []
    while sorter.is_active():
        batch = sorted(sorter.get_ready(), key=position.get)
        waves.append(batch)
        sorter.done(*batch)
    return waves


def plan(components, state="present", targets=None, include_dependencies=True, failed=None):
    """The plan of a run; raises ComponentPlanError naming every problem at once."""
    problems = []
    specs = _normalise(components, problems)
    if not isinstance(state, str) or state.strip().lower() not in STATES:
        problems.append("state must be present or absent, got %r" % (state,))
        state = "present"
    state = state.strip().lower()
    try:
        include_dependencies = to_bool(include_dependencies, True)
    except ValueError:
        problems.append("include_dependencies must be a boolean (true/false/yes/no), got %r" % (include_dependencies,))
        include_dependencies = True
    known = list(specs)
    graph = _check_dependencies(specs, problems)
    position = dict((name, index) for index, name in enumerate(specs))

    lists = {}
    for option, value in (("targets", targets), ("failed", failed)):
        try:
            names = _names(value)
        except TypeError as exc:
            problems.append("%s must be a list of component names, got %s" % (option, exc))
            names = []
        lists[option] = []
        for name in names:
            if not isinstance(name, str) or name not in specs:
                problems.append("%s: %s is not a component%s" % (option, name, _hint(name, known) if isinstance(name, str) else ""))
            elif not specs[name]["enabled"]:
                problems.append("targets: %s is disabled: enable %s or drop it from targets" % (name, name) if option == "targets"
                                else "failed: %s is disabled, so it did not run" % name)
            elif name not in lists[option]:
                lists[option].append(name)

    cycles, more = _cycles(graph, position)
    for path in sorted(cycles, key=lambda p: [len(p)] + [position[n] for n in p]):
        if len(path) == 2:
            problems.append("dependency cycle: %s -> %s (%s depends on itself)" % (path[0], path[0], path[0]))
        else:
            problems.append("dependency cycle: %s (each depends on the next)" % " -> ".join(path))
    if more:
        problems.append("more dependency cycles than the %d shown" % _MAX_CYCLES)
    if problems:
        raise ComponentPlanError(problems)

    dependents = dict((name, []) for name in graph)
    for name, deps in graph.items():
        for dep in deps:
            dependents[dep].append(name)
    order = _install_order(graph, position)
    rank = dict((name, index) for index, name in enumerate(order))

    def ranked(names):
        return sorted(names, key=rank.get)

    removing = state == "absent"
    if lists["targets"]:
        chosen = set(lists["targets"])
        if include_dependencies:
            chosen |= _closure(chosen, dependents if removing else graph)
    else:
        chosen = set(graph)
    selected = ranked(chosen)
    waves = _waves(graph, chosen, position)

    skipped = []
    for name, spec in specs.items():
        if not spec["enabled"]:
            skipped.append({"name": name, "reason": "disabled"})
        elif name not in chosen:
            skipped.append({"name": name, "reason": "not selected: neither a target nor %s"
                            % ("depending on one" if removing else "needed by one")})

    # A failed install blocks what runs on it; a failed removal blocks what it
    # runs on (removing those would strand the component that stayed).
    blocked = _closure(lists["failed"], graph if removing else dependents) & chosen
    blocked -= set(lists["failed"])
    run = [n for n in (reversed(order) if removing else order) if n in chosen]
    return {
        "state": state,
        "components": specs,
        "order": order,
        "removal_order": list(reversed(order)),
        "waves": waves,
        "removal_waves": [list(reversed(w)) for w in reversed(waves)],
        "selected": selected,
        "run": run,
        "skipped": skipped,
        "dependencies": dict((n, ranked(_closure([n], graph))) for n in selected),
        "dependents": dict((n, ranked(_closure([n], dependents))) for n in selected),
        "failed": ranked(lists["failed"]),
        "blocked": [n for n in run if n in blocked],
    }
