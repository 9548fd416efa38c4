#!/usr/bin/env bash
# The test-only Python tools, in a virtual environment of the project's own
# (the product stays C): OASIS stix2-validator (validates the STIX 2.1 bundles
# cshield-report writes) and jsonschema (the JSON editions against
# docs/situation.schema.json). Idempotent. Prints the environment to export, on
# one line:
#   CS_STIX2_VALIDATOR=<the stix2_validator program> CS_PYTOOLS_PYTHON=<the venv's python>
# Usage: deploy/local/pytools.sh [VENV_DIR]   (default $CS_LOCAL_DIR/pytools)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
venv=${1:-$CS_LOCAL_DIR/pytools}
want="stix2-validator==3.3.2 jsonschema==4.26.0 medallion==3.0.0 misp-stix==2026.10.12"
if [ ! -x "$venv/bin/stix2_validator" ] || [ ! -x "$venv/bin/medallion" ] ||
   ! "$venv/bin/python" -c 'import jsonschema, misp_stix_converter' 2>/dev/null; then
	python3 -m venv "$venv" >&2 || cs_die "python3 -m venv $venv failed (Debian: apt-get install python3-venv)"
	# shellcheck disable=SC2086
	"$venv/bin/pip" install -q --disable-pip-version-check $want >&2 || cs_die "pip install $want failed"
fi
echo "CS_STIX2_VALIDATOR=$venv/bin/stix2_validator CS_PYTOOLS_PYTHON=$venv/bin/python"
