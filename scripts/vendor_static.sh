#!/usr/bin/env bash
# Re-vendor the front-end assets from the npm registry (hospital networks are closed: the
# pages never load anything from a CDN). The copied files are committed.
# axe-core is not served to users' pages: the browser tests (tests/browser/) inject it into
# each page they visit to check its accessibility.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# vendor PACKAGE VERSION FOLDER FILE... : copy FILEs (paths inside the package) into
# static/vendor/FOLDER.
vendor() {
  local package=$1 version=$2 folder=$3
  shift 3
  rm -rf package
  npm pack --silent "$package@$version" >/dev/null
  tar xzf "$package-$version.tgz"
  local dest="$root/static/vendor/$folder"
  mkdir -p "$dest"
  for file in "$@"; do cp "package/$file" "$dest/"; done
  echo "vendored $package $version into $dest"
}

vendor bootstrap 5.3.9 bootstrap \
  dist/css/bootstrap.min.css dist/css/bootstrap.min.css.map \
  dist/js/bootstrap.bundle.min.js dist/js/bootstrap.bundle.min.js.map LICENSE
vendor axe-core 4.14.1 axe-core axe.min.js LICENSE
