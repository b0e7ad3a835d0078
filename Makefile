# The README's commands. `make demo` and `make test` work on a fresh machine:
# they create the virtualenv, build the local cluster and run everything.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
FLAVOUR ?= kubernetes
export MOLECULE_GLOB := molecule/*/molecule.yml
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help host venv collection-link cluster-build cluster-up cluster-down cluster-status demo test \
        unit integration lint sanity molecule clean

help:
	@echo "make demo      bring the local cluster up (FLAVOUR=kubernetes|openshift) and run site.yml with every component"
	@echo "make test      everything CI runs: unit, integration, lint, sanity, molecule"
	@echo "make cluster-up / cluster-down / cluster-status   the local cluster alone"

# Reinstalled only when a requirements file changes.
$(VENV)/.installed: requirements.txt test-requirements.txt
	@test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r test-requirements.txt
	@touch $@

venv: $(VENV)/.installed

# Operating-system tools of bindep.txt (openssl, shellcheck, git).
host:
	tests/setup-host

# ansible finds this checkout as rhdh.orchestrator through a symlink.
collection-link:
	@mkdir -p .build/collections/ansible_collections/rhdh
	@ln -sfn ../../../.. .build/collections/ansible_collections/rhdh/orchestrator

cluster-build: host venv
	tests/cluster/cluster build

cluster-up: host venv
	tests/cluster/cluster up --flavour $(FLAVOUR)

cluster-down:
	tests/cluster/cluster down --flavour $(FLAVOUR)

cluster-status:
	tests/cluster/cluster status --flavour $(FLAVOUR)

# The same stack as the molecule scenario `site`: its prepare (GitOps CRDs and
# ArgoCD, the greeting chart rendered), then site.yml with its settings; the
# run ends with site.yml's summary table.
demo: venv collection-link cluster-up
	source <(tests/cluster/cluster env --flavour $(FLAVOUR)) && \
	  vars="$$(tests/cluster/cluster demo-vars --flavour $(FLAVOUR))" && \
	  $(VENV)/bin/ansible-playbook molecule/site/prepare.yml -e @"$$vars" && \
	  $(VENV)/bin/ansible-playbook site.yml -e @molecule/site/vars/main.yml -e @"$$vars"

test: host venv collection-link
	tests/run-all

unit: venv
	$(VENV)/bin/pytest tests/unit

integration: venv
	$(VENV)/bin/pytest tests/integration

lint: venv collection-link
	tests/run-all lint

sanity: host venv
	tests/run-all sanity

molecule: venv collection-link
	tests/run-all molecule

clean:
	-tests/cluster/cluster down --flavour kubernetes
	-tests/cluster/cluster down --flavour openshift
	rm -rf .build .cluster .pytest_cache
