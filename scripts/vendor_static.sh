#!/usr/bin/env bash
# Re-vendor the front-end assets from the npm registry (hospital networks are closed: the
# pages never load anything from a CDN). The copied files are committed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent bootstrap@5.3.9 >/dev/null
tar xzf bootstrap-5.3.9.tgz
dest="$root/static/vendor/bootstrap"
mkdir -p "$dest"
cp package/dist/css/bootstrap.min.css package/dist/css/bootstrap.min.css.map \
   package/dist/js/bootstrap.bundle.min.js package/dist/js/bootstrap.bundle.min.js.map \
   package/LICENSE "$dest/"
echo "vendored bootstrap 5.3.9 into $dest"
