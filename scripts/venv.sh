# Sourced by scripts/test and the benchmarks: makes $VENV, a virtualenv with tests/requirements.txt,
# cached under ~/.cache/switchyard by the requirements' hash so local runs install once.
hash=$(sha256sum tests/requirements.txt | cut -c1-12)
VENV="${SWITCHYARD_VENV:-$HOME/.cache/switchyard/venv-$hash}"
if [ ! -x "$VENV/bin/python" ] || [ ! -f "$VENV/.complete" ]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt
    touch "$VENV/.complete"
fi
export VENV
