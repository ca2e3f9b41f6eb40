# Sourced by scripts/test and the benchmarks: makes $VENV, a virtualenv with tests/requirements.txt,
# cached under ~/.cache/switchyard by the requirements' hash so local runs install once.
# SWITCHYARD_CLI=latest selects a second cached venv from tests/requirements-cli-latest.txt instead
# (the newest claude-agent-sdk, so the newest Claude Code CLI); SWITCHYARD_VENV names the default one.
case "${SWITCHYARD_CLI:-pinned}" in
    pinned)
        requirements=tests/requirements.txt
        hash=$(sha256sum "$requirements" | cut -c1-12)
        VENV="${SWITCHYARD_VENV:-$HOME/.cache/switchyard/venv-$hash}" ;;
    latest)
        requirements=tests/requirements-cli-latest.txt
        hash=$(sha256sum "$requirements" | cut -c1-12)
        VENV="$HOME/.cache/switchyard/venv-cli-latest-$hash" ;;
    *)
        echo "scripts/venv.sh: SWITCHYARD_CLI must be 'pinned' or 'latest', not '$SWITCHYARD_CLI'" >&2
        return 1 2>/dev/null || exit 1 ;;
esac
if [ ! -x "$VENV/bin/python" ] || [ ! -f "$VENV/.complete" ]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    touch "$VENV/.complete"
fi
export VENV
