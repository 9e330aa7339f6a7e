# Shortcuts for people who have make; tasks.py does the work and needs only Python 3.11+.
.PHONY: help run test check
help: ## list targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'
run: ## run the bot locally on its embedded defaults
	python3 tasks.py run
test: ## run the whole test suite
	python3 tasks.py test
check: ## ruff and mypy --strict
	python3 tasks.py check
