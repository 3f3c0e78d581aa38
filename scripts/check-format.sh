#!/usr/bin/env bash
# Fails when a tracked C file differs from what clang-format makes of it
# with the repository's .clang-format. `scripts/check-format.sh --fix`
# rewrites the files instead.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || {
    echo "check-format: clang-format is not installed (apt-get install clang-format)" >&2
    exit 2
}
mapfile -t files < <(git ls-files '*.c' '*.h')
if [ "${1:-}" = "--fix" ]; then
    clang-format -i "${files[@]}"
    exit 0
fi
if ! out=$(clang-format --dry-run --Werror "${files[@]}" 2>&1); then
    printf '%s\n' "$out" | grep -o '^[^:]*:[0-9]*' | sort -u -t: -k1,1 | head -20 >&2
    echo "check-format: the files above are not formatted; run scripts/check-format.sh --fix" >&2
    exit 1
fi
echo "check-format: ${#files[@]} files formatted" >&2
