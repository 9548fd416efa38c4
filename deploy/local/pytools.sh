#!/usr/bin/env bash
# The test-only Python tools, in a virtual environment of the project's own
# (the product stays C): OASIS stix2-validator (validates the STIX 2.1 bundles
# cshield-report writes). Idempotent. Prints the environment to export:
#   CS_STIX2_VALIDATOR=<path of the stix2_validator program>
# Usage: deploy/local/pytools.sh [VENV_DIR]   (default $CS_LOCAL_DIR/pytools)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
venv=${1:-$CS_LOCAL_DIR/pytools}
want="stix2-validator==3.3.2"
if [ ! -x "$venv/bin/stix2_validator" ]; then
	python3 -m venv "$venv" >&2 || cs_die "python3 -m venv $venv failed (Debian: apt-get install python3-venv)"
	"$venv/bin/pip" install -q --disable-pip-version-check "$want" >&2 || cs_die "pip install $want failed"
fi
echo "CS_STIX2_VALIDATOR=$venv/bin/stix2_validator"
