#!/usr/bin/env bash
# check-libc-pin.sh: modernc.org/sqlite is generated against one exact
# version of modernc.org/libc. If the build selects another libc (for example
# because some other dependency asks for a newer one and MVS picks it), SQLite
# may corrupt memory or fail at run time. This script fails when the libc the
# build selects differs from the libc that the selected sqlite's go.mod wants.
#
# Usage: scripts/check-libc-pin.sh   (run from anywhere inside the module)
set -euo pipefail

cd "$(dirname "$0")/.."

if ! grep -q 'modernc.org/sqlite' go.mod; then
	echo "check-libc-pin: go.mod does not require modernc.org/sqlite; nothing to check"
	exit 0
fi

sqlite_ver=$(go list -m -f '{{.Version}}' modernc.org/sqlite)

selected=$(go list -m -f '{{.Version}}' modernc.org/libc)

# The edge "modernc.org/sqlite@<ver> modernc.org/libc@<X>" in the module graph
# is the requirement in sqlite's own go.mod.
wanted=$(go mod graph | awk -v from="modernc.org/sqlite@${sqlite_ver}" '
	$1 == from && $2 ~ /^modernc\.org\/libc@/ { sub(/^modernc\.org\/libc@/, "", $2); print $2; exit }')

if [[ -z "$wanted" ]]; then
	echo "check-libc-pin: FAIL: modernc.org/sqlite@${sqlite_ver} has no requirement on modernc.org/libc in 'go mod graph'" >&2
	exit 1
fi

if [[ "$selected" != "$wanted" ]]; then
	cat >&2 <<MSG
check-libc-pin: FAIL: modernc.org/libc version mismatch.
  required by modernc.org/sqlite@${sqlite_ver} (its go.mod): modernc.org/libc@${wanted}
  selected by this build (go list -m):             modernc.org/libc@${selected}
modernc.org/sqlite is generated against one exact libc version; any other
version can break SQLite at run time. Fix go.mod so that it requires
modernc.org/libc ${wanted} (e.g. 'go get modernc.org/libc@${wanted}'), or move
sqlite to the release that was built against libc ${selected}.
MSG
	exit 1
fi

echo "check-libc-pin: ok: modernc.org/sqlite@${sqlite_ver} wants modernc.org/libc@${wanted}, build selects ${selected}"
