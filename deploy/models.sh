#!/usr/bin/env bash
# Fetch the face recognition models of Rollcall's built-in provider: three
# networks of the npm package @vladmandic/face-api 1.7.15 (MIT), the tiny face
# detector, the 68-point landmark net and the face recognition net.
#
#   deploy/models.sh [DIR]     DIR defaults to $ROLLCALL_MODELS_DIR, else the
#                              stack's directory ($ROLLCALL_STACK_DIR, default <repo>/.local)/models
#
# Install time only: Rollcall never downloads at run time. The package
# tarball comes from the npm registry ($NPM_REGISTRY, default
# https://registry.npmjs.org), its published sha512 integrity is checked, and
# each extracted file is checked against its pinned sha256 before it is put
# in DIR. Files already there with the right digests are kept (no download).
set -Eeuo pipefail

PACKAGE=@vladmandic/face-api
VERSION=1.7.15
INTEGRITY=sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw==
# name sha256 — internal/facenet/modelfiles.go pins the same digests.
FILES=(
	"tiny_face_detector_model-weights_manifest.json 5d1af4849ac48d5b985f4a9b16010c512353ddd6fcc63d50fd0bc9e9e64296e5"
	"tiny_face_detector_model.bin b7503ce7df31039b1c43316a9b865cab6a70dd748cc602d3fa28b551503c3871"
	"face_landmark_68_model-weights_manifest.json ca4886639f86e99b39fed0c155f81b63317225773bd9616716e887b0153389c9"
	"face_landmark_68_model.bin 4611ef65c87d836d03d684b30eec4d195d8b219fa1dd58fc58945831c6b9299b"
	"face_recognition_model-weights_manifest.json cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b"
	"face_recognition_model.bin b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589"
)

info() { printf '[models] %s\n' "$*" >&2; }
die() {
	printf '[models] ERROR: %s\n' "$*" >&2
	exit 1
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-${ROLLCALL_MODELS_DIR:-${ROLLCALL_STACK_DIR:-$root/.local}/models}}
registry=${NPM_REGISTRY:-https://registry.npmjs.org}
registry=${registry%/}

# have_all: every file in dir with its pinned digest.
have_all() {
	local entry name sum
	for entry in "${FILES[@]}"; do
		read -r name sum <<<"$entry"
		[[ -f $dir/$name ]] || return 1
		[[ $(sha256sum "$dir/$name" | cut -d' ' -f1) == "$sum" ]] || {
			info "$dir/$name does not have its pinned sha256; fetching again"
			return 1
		}
	done
}

if have_all; then
	info "$PACKAGE@$VERSION models present and verified in $dir"
	exit 0
fi

command -v curl >/dev/null || die "curl is needed to fetch the models (apt-get install curl)"
mkdir -p "$dir"
tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

url="$registry/$PACKAGE/-/face-api-$VERSION.tgz"
info "fetching $url"
curl -fsSL --retry 4 --retry-delay 2 --retry-all-errors --connect-timeout 15 --max-time 300 -o "$tmp/package.tgz" "$url" ||
	die "could not download $url (is the npm registry reachable? set NPM_REGISTRY for a mirror)"

got="sha512-$(openssl dgst -sha512 -binary "$tmp/package.tgz" | base64 -w0)"
[[ $got == "$INTEGRITY" ]] || die "$url does not have the published integrity of $PACKAGE@$VERSION (got $got, want $INTEGRITY): refusing it"

members=()
for entry in "${FILES[@]}"; do
	read -r name _ <<<"$entry"
	members+=("package/model/$name")
done
tar -xzf "$tmp/package.tgz" -C "$tmp" "${members[@]}" package/LICENSE ||
	die "the tarball lacks the model files"

for entry in "${FILES[@]}"; do
	read -r name sum <<<"$entry"
	[[ $(sha256sum "$tmp/package/model/$name" | cut -d' ' -f1) == "$sum" ]] ||
		die "$name in the verified tarball does not have its pinned sha256 $sum"
done
for entry in "${FILES[@]}"; do
	read -r name _ <<<"$entry"
	mv -f "$tmp/package/model/$name" "$dir/$name"
done
mv -f "$tmp/package/LICENSE" "$dir/LICENSE.face-api"
info "$PACKAGE@$VERSION models verified and installed in $dir"
