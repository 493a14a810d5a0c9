#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ (git-ignored) with seed inputs from the repository's fixtures,
# experts and examples and, when present, ../shared/corpus beside the checkout: the real
# manifests, dataset samples, packages and signatures the parsers meet. Both `cargo fuzz run`
# and the stable driver start from these.
set -euo pipefail
cd "$(dirname "$0")"
root=..
shared=$root/../shared/corpus
mkdir -p corpus/manifest corpus/read corpus/signing corpus/dataset corpus/minisign corpus/canonical
put() { # TARGET FILE
    [ -f "$2" ] || return 0
    cp "$2" "corpus/$1/$(sha256sum "$2" | cut -c1-16)"
}
for f in "$root"/fixtures/manifests/*.json "$root"/experts/*/manifest.json "$root"/examples/*/manifest*.json \
         "$root"/fixtures/hostile/manifests/*.json "$shared"/manifests/public/*.json; do
    put manifest "$f"
done
for f in "$root"/fixtures/signing/*.sig "$root"/fixtures/signing/*.manifest.json; do put signing "$f"; done
for f in "$root"/fixtures/signing/*.minisig "$root"/fixtures/signing/*.pub "$root"/fixtures/signing/*.pem; do put minisign "$f"; done
for f in "$root"/experts/*/datasets/*.jsonl "$root"/examples/*/datasets/*.jsonl "$root"/fixtures/tiny-expert/*.jsonl \
         "$shared"/datasets/*.jsonl; do
    put dataset "$f"
done
for f in "$root"/fixtures/hostile/archives/*.expert; do put read "$f"; done
# a real package of the example
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if cargo run --quiet --manifest-path "$root/Cargo.toml" --no-default-features -- -q package \
     --manifest "$root/examples/multi-model-expert/manifest.json" --model qwen306b --output "$tmp/p.expert" >/dev/null 2>&1; then
    put read "$tmp/p.expert"
    # `canonical` takes a flag byte (1: fix header checksums first) and the tar stream.
    { printf '\001'; gzip -dc "$tmp/p.expert"; } >"$tmp/p.tar"
    put canonical "$tmp/p.tar"
fi
for t in manifest read signing dataset minisign canonical; do echo "corpus/$t: $(ls corpus/$t | wc -l) seeds"; done
