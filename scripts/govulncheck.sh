#!/usr/bin/env bash
# scripts/govulncheck.sh: govulncheck over the whole module, with the Go
# vulnerability database built locally from golang.org/x/vulndb (fetched
# through the Go module proxy), for machines that cannot reach vuln.go.dev.
# With VULNDB=URL (e.g. https://vuln.go.dev) it uses that database instead.
# Exits non-zero when the code calls a known-vulnerable function.
#
# The standard library's fixes come with Go itself: run it with the Go of
# go.mod's toolchain line (GOTOOLCHAIN=go1.26.10, fetched through the proxy).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
GOVULNCHECK=golang.org/x/vuln/cmd/govulncheck@v1.9.0

db=${VULNDB:-}
if [[ -z "$db" ]]; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	src=$(cd "$work" && go mod download -json golang.org/x/vulndb@latest | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -d "$src/data/osv" ]] || { echo "govulncheck.sh: golang.org/x/vulndb has no data/osv" >&2; exit 2; }
	# gendb reads the reports from a git repository: make one of the copy.
	cp -r "$src" "$work/vulndb" && chmod -R u+w "$work/vulndb"
	(cd "$work/vulndb" && git init -q && git add -A && git -c user.name=ci -c user.email=ci@localhost commit -qm vulndb &&
		go run ./cmd/gendb -repo . -out "$work/db" >/dev/null)
	db="file://$work/db"
	echo "govulncheck.sh: database built from $(basename "$src") ($(ls "$work/db/ID" | grep -c '\.json$') entries)"
fi
cd "$ROOT"
go run "$GOVULNCHECK" -db "$db" ./...
