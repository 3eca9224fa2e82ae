#!/bin/sh
# Update the vendored Tom Select: tools/update_tomselect.sh [version]   (default: latest 2.x)
set -eu
VERSION="${1:-2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/core/kyklos/web/static/vendor/tom-select"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm pack --silent "tom-select@$VERSION" >/dev/null
tar xzf tom-select-*.tgz
EXACT="$(node -p 'require("./package/package.json").version')"
mkdir -p "$DEST"
# the source-map comments would make browsers ask for .map files we do not ship
sed '/^\/\/# sourceMappingURL=/d' package/dist/js/tom-select.complete.min.js \
  > "$DEST/tom-select.complete.min.js"
sed 's#/\*\# sourceMappingURL=[^*]*\*/##' package/dist/css/tom-select.bootstrap5.min.css \
  > "$DEST/tom-select.bootstrap5.min.css"
cp package/LICENSE "$DEST/LICENSE"
sed -i "s/^- Version: \*\*[^*]*\*\*/- Version: **$EXACT**/" "$DEST/README.md"
echo "Tom Select $EXACT copied to $DEST"
