#!/usr/bin/env bash
# Gradescope autograder setup: runs once when the autograder image is built.
# Zip this repository's contents (with this folder) as the autograder; Gradescope unpacks it in /autograder/source.
set -euo pipefail
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-pip python3-venv >/dev/null
python3 -m venv /autograder/venv
cd /autograder/source
/autograder/venv/bin/pip install --quiet -r requirements.txt
