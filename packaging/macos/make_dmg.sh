#!/usr/bin/env bash
# Build Carrel's macOS disk image. Build steps: README.md, "Building the installers". Run on
# a Mac from the repository root, in the venv `make run` made there (llama.cpp built with
# Metal, torch from PyPI's macOS wheel):
#
#     packaging/macos/make_dmg.sh [--without-model]
#
# It freezes Carrel.app with installer.spec, then writes dist/packages/carrel-<version>.dmg:
# the app beside a link to /Applications, compressed (UDZO), with its SHA-256 in
# SHA256SUMS. With CODESIGN_IDENTITY set, the app is signed (hardened runtime) before the
# image is made; notarizing (`xcrun notarytool submit … --wait`, then `xcrun stapler
# staple`) needs an Apple developer account and is left to the person releasing.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' app/__init__.py)
out=dist/packages
mkdir -p "$out"
.venv/bin/pyinstaller --noconfirm --clean --distpath dist/macos --workpath build/macos \
    installer.spec -- "$@"
app=dist/macos/Carrel.app
if [ -n "${CODESIGN_IDENTITY:-}" ]; then
    codesign --deep --force --options runtime --timestamp --sign "$CODESIGN_IDENTITY" "$app"
    codesign --verify --deep --strict "$app"
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
dmg="$out/carrel-$version.dmg"
rm -f "$dmg"
hdiutil create -volname "Carrel $version" -srcfolder "$stage" -fs HFS+ -format UDZO \
    -imagekey zlib-level=9 "$dmg"
(cd "$out" && shasum -a 256 "$(basename "$dmg")" >> SHA256SUMS)
echo "wrote $dmg"
