# Stands in for bench-references/transformers_generate.py on a python without the package: the import fails as it would.
import llamats_test_absent_module  # noqa: F401
