.PHONY: demo test setup lint bench

## Set up and run the demo on the embedded SQLite database (http://127.0.0.1:8000).
demo:
	sh scripts/demo.sh

## Set up and run the whole test suite (SQLite, and PostgreSQL when its binaries exist).
test:
	sh scripts/test.sh

## Create .venv and install the locked dependencies.
setup:
	sh scripts/bootstrap.sh

lint:
	.venv/bin/ruff check src tests bench && .venv/bin/lint-imports
