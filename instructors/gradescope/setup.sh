#!/usr/bin/env bash
# Gradescope autograder setup: runs once, as root, when the autograder image is built (a few minutes).
# The autograder zip holds this repository with setup.sh and run_autograder at its top level; Gradescope
# unpacks it in /autograder/source. See instructors/README.md, "Gradescope".
set -euo pipefail
apt-get update -qq
# bubblewrap: the sandbox the students' code runs in; util-linux gives setpriv and prlimit.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-pip python3-venv bubblewrap util-linux >/dev/null
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --quiet torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install --quiet -r /autograder/source/requirements-grader.txt
# The reference solutions must be readable by root only: the students' code runs as another user.
chmod -R go-rwx /autograder/source
# Check the image: the grader finds its sandbox, and the reference solutions pass their own tests.
cd /autograder/source
/autograder/venv/bin/python -c "from grader.sandbox import backend; print('sandbox:', backend())"
