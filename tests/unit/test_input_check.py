"""The input rules of the roles: messages, naming of the variable the user set, argument-spec errors."""
import importlib.util
import os
import re
import sys

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import HealthCheck, given, settings, strategies as st

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PROPERTY = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def _load(name, *parts):
    spec = importlib.util.spec_from_file_location(name, os.path.join(_ROOT, "plugins", *parts))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ic = _load("input_check", "module_utils", "input_check.py")
REFS = ic.collection_references(os.path.join(_ROOT, "roles"))


@pytest.fixture(name="filters")
def fixture_filters(monkeypatch):
    monkeypatch.setitem(sys.modules, "ansible_collections.rhdh.orchestrator.plugins.module_utils.input_check", ic)
    return _load("input_check_filter", "filter", "input_check.py").FilterModule().filters()


def rule(var, value, test, **args):
    return dict(args, var=var, value=value, test=test)


def test_one_message_per_failed_rule_each_test():
    rules = [
        rule("a_ns", "Bad_Name", "dns_label"), rule("a_ok", "good-name", "dns_label"),
        rule("a_secret_name", "-x", "dns_name"), rule("a_list", ["ok", "No", "x_y"], "dns_labels"),
        rule("a_size", "2 gigs", "quantity"), rule("a_size_ok", "1.5Gi", "quantity"),
        rule("a_wait", "0", "positive_int"), rule("a_wait_ok", 300, "positive_int"),
        rule("a_port", 70000, "port"), rule("a_url", "ftp://x", "url"), rule("a_index", "http://h/graphql", "url_host"),
        rule("a_host", "https://h", "host"), rule("a_kind", "Job", "one_of", choices=["Deployment", "StatefulSet"]),
        rule("a_branch", "-x", "regex", pattern="^[a-z]", what="must start with a letter"), rule("a_db", " ", "not_empty"),
        rule("a_id", "x", "together", other="a_secret", other_value=""),
        rule("a_mail", True, "requires", others=["a_mail_host", "a_mail_from"], other_values=["h", ""]),
        rule("a_mode", "x", "condition", ok=False, what="must be none when a_spec.ingress is given"),
        rule("a_pw", "short", "condition", ok=False, what="must be 32 characters", secret=True),
        rule("a_skipped", "Bad_Name", "dns_label", when=False),
    ]
    assert ic.check_rules(rules) == [
        "a_ns must be a DNS label (lowercase letters, digits and '-', at most 63) (got 'Bad_Name')",
        "a_secret_name must be a DNS subdomain name (lowercase letters, digits, '-' and '.') (got '-x')",
        "a_list must list DNS labels (got 'No, x_y')",
        "a_size must be a Kubernetes quantity such as 2Gi (got '2 gigs')",
        "a_wait must be a positive number of seconds (got '0')",
        "a_port must be a port number (1-65535) (got '70000')",
        "a_url must be an http(s) URL (got 'ftp://x')",
        "a_index must be http(s)://host without a path (got 'http://h/graphql')",
        "a_host must be a host name without a scheme (got 'https://h')",
        "a_kind must be one of Deployment, StatefulSet (got 'Job')",
        "a_branch must start with a letter (got '-x')",
        "a_db must not be empty (got ' ')",
        "a_id and a_secret go together: set both or neither",
        "a_mail needs a_mail_from",
        "a_mode must be none when a_spec.ingress is given",
        "a_pw must be 32 characters (its value is not shown)",
    ]
    with pytest.raises(ic.RuleError):
        ic.check_rules([rule("x", 1, "no_such_test")])


def test_the_defaults_tell_where_role_variables_come_from():
    """Read from the real roles: direct fallbacks and chains through other role variables."""
    assert "orchestrator_wait_timeout" in REFS["postgres_wait_timeout"]
    assert ic.ancestors("postgres_service_namespace", REFS)[:2] == ["postgres_namespace", "orchestrator_workflow_namespace"]
    assert "orchestrator_workflow_namespace" in ic.ancestors("rhdh_data_index_url", REFS)
    assert "postgres_image" not in REFS  # a plain default refers to nothing
    for role in ("postgres", "serverless", "sonataflow", "rhdh", "workflow_namespace", "gitops", "workflows"):
        assert "orchestrator_wait_timeout" in REFS[role + "_wait_timeout"], role
        assert "orchestrator_state" in REFS[role + "_state"], role


def test_the_variable_the_user_set_is_named():
    sources = {"orchestrator_wait_timeout": "abc", "orchestrator_workflow_namespace": "Bad_NS"}
    rules = [
        rule("postgres_wait_timeout", "abc", "positive_int"),
        rule("postgres_storage_size", "2 gigs", "quantity"),
        rule("postgres_service_namespace", "Bad_NS", "dns_label"),  # two steps away, same message as the next
        rule("postgres_namespace", "Bad_NS", "dns_label"),
        rule("rhdh_workflow_namespace", "Bad_NS", "dns_label"),
        rule("rhdh_data_index_url", "http://data-index.Bad_NS/x", "url_host"),  # a consequence: left out
        rule("rhdh_wait_timeout", "12x", "positive_int"),  # the user set it: its value is not orchestrator_wait_timeout's
    ]
    assert ic.check_rules(rules, sources, REFS) == [
        "orchestrator_wait_timeout must be a positive number of seconds (got 'abc')",
        "postgres_storage_size must be a Kubernetes quantity such as 2Gi (got '2 gigs')",
        "orchestrator_workflow_namespace must be a DNS label (lowercase letters, digits and '-', at most 63) (got 'Bad_NS')",
        "rhdh_wait_timeout must be a positive number of seconds (got '12x')",
    ]
    # a value set by the user on the role variable itself, unrelated to the collection-wide one, names the role variable
    assert ic.blame("postgres_namespace", "Other_NS", REFS, sources) == "postgres_namespace"
    assert ic.blame("postgres_wait_timeout", 0, REFS, {"orchestrator_wait_timeout": "0"}) == "orchestrator_wait_timeout"


def test_argument_spec_errors_are_renamed_and_not_repeated(filters):
    spec_errors = [
        "argument 'postgres_wait_timeout' is of type str and we were unable to convert to int: \"'abc'\" cannot be converted to an int",
        "argument 'postgres_port' is of type str and we were unable to convert to int: \"'x'\" cannot be converted to an int",
        "value of postgres_state must be one of: present, absent, got: gone",
        "something without a name",
    ]
    values = {"postgres_wait_timeout": "abc", "postgres_port": "x", "postgres_state": "gone"}
    sources = {"orchestrator_wait_timeout": "abc", "orchestrator_state": "gone"}
    assert filters["input_error_vars"](spec_errors) == ["postgres_wait_timeout", "postgres_port", "postgres_state"]
    only_spec = filters["input_errors"]([], sources, spec_errors, values)
    assert only_spec[0].startswith("argument 'orchestrator_wait_timeout' is of type str")
    assert only_spec[1].startswith("argument 'postgres_port'")
    assert only_spec[2] == "value of orchestrator_state must be one of: present, absent, got: gone"
    assert only_spec[3] == "something without a name"
    with_rule = filters["input_errors"]([rule("postgres_wait_timeout", "abc", "positive_int")], sources, spec_errors, values)
    assert with_rule[0] == "orchestrator_wait_timeout must be a positive number of seconds (got 'abc')"
    assert not any("postgres_wait_timeout" in m or "argument 'orchestrator_wait_timeout'" in m for m in with_rule)
    with pytest.raises(AnsibleFilterError, match="unknown test"):
        filters["input_errors"]([rule("x", 1, "nope")])


_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@PROPERTY
@given(st.one_of(st.text(alphabet="abcXyz019-_.", max_size=70), st.integers(-5, 99999)),
       st.sampled_from(["dns_label", "positive_int", "port", "quantity"]),
       st.sampled_from(["postgres_wait_timeout", "postgres_namespace", "rhdh_name"]),
       st.booleans())
def test_at_most_one_message_naming_the_variable_or_its_source(value, test, var, user_set_source):
    sources = {"orchestrator_wait_timeout": value, "orchestrator_workflow_namespace": value} if user_set_source else {}
    messages = ic.check_rules([rule(var, value, test)], sources, REFS)
    assert len(messages) <= 1
    text = str(value)
    expected_ok = {
        "dns_label": bool(_LABEL.match(text)) and len(text) <= 63,
        "positive_int": text.isdigit() and int(text) > 0,
        "port": text.isdigit() and 0 < int(text) < 65536,
        "quantity": bool(re.match(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$", text)),
    }[test]
    assert (not messages) == expected_ok
    if messages:
        named = messages[0].split(" ", 1)[0]
        allowed = {var} | ({"orchestrator_wait_timeout", "orchestrator_workflow_namespace"} & set(ic.ancestors(var, REFS)) if user_set_source else set())
        assert named in allowed
        assert messages[0].endswith("(got '%s')" % text)
