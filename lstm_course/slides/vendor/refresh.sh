#!/bin/sh
# Re-vendor the slide assets from npm (run from anywhere; needs npm and network, once).
# Users never run this: the copies below are committed and the decks work offline.
# Local changes to the upstream files (so that every file a deck references exists):
#   - white.css: the @import of the Source Sans Pro web fonts is removed (Helvetica/sans-serif
#     is used instead; the fonts would add ~0.4 MB);
#   - reveal.js: the trailing sourceMappingURL comment is removed (the .map is not shipped).
set -eu
REVEAL=${REVEAL:-5.2.1}
MATHJAX=${MATHJAX:-3.2.2}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "reveal.js@$REVEAL" "mathjax@$MATHJAX" >/dev/null
mkdir reveal mathjax
tar xzf "reveal.js-$REVEAL.tgz" -C reveal
tar xzf "mathjax-$MATHJAX.tgz" -C mathjax

rm -rf "$here/reveal.js" "$here/mathjax"
mkdir -p "$here/reveal.js/dist/theme" "$here/reveal.js/plugin/notes" "$here/mathjax/es5"
r=reveal/package
cp "$r/LICENSE" "$here/reveal.js/LICENSE"
cp "$r/dist/reveal.css" "$here/reveal.js/dist/reveal.css"
sed '/sourceMappingURL=/d' "$r/dist/reveal.js" > "$here/reveal.js/dist/reveal.js"
sed '/^@import url(.\/fonts\//d' "$r/dist/theme/white.css" > "$here/reveal.js/dist/theme/white.css"
cp "$r/plugin/notes/notes.js" "$here/reveal.js/plugin/notes/notes.js"
cp mathjax/package/LICENSE "$here/mathjax/LICENSE"
cp mathjax/package/es5/tex-svg-full.js "$here/mathjax/es5/tex-svg-full.js"
echo "reveal.js $REVEAL and MathJax $MATHJAX vendored into $here"
du -sh "$here"
