#!/bin/sh
# Update the vendored Quill editor: tools/update_quill.sh [version]   (default: latest 2.x)
set -eu
VERSION="${1:-2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/core/kyklos/web/static/vendor/quill"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm pack --silent "quill@$VERSION" >/dev/null
tar xzf quill-*.tgz
EXACT="$(node -p 'require("./package/package.json").version')"
mkdir -p "$DEST"
# the source-map comments would make browsers ask for .map files we do not ship
sed '/^\/\/# sourceMappingURL=/d' package/dist/quill.js > "$DEST/quill.js"
sed 's#/\*\# sourceMappingURL=[^*]*\*/##' package/dist/quill.snow.css > "$DEST/quill.snow.css"
cp package/LICENSE "$DEST/LICENSE"
cp package/dist/quill.js.LICENSE.txt "$DEST/quill.js.LICENSE.txt"
sed -i "s/^- Version: \*\*[^*]*\*\*/- Version: **$EXACT**/" "$DEST/README.md"
echo "Quill $EXACT copied to $DEST"
