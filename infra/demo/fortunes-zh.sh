#!/usr/bin/env bash
# Writes the Chinese text of Debian's fortunes-zh package (its `chinese` file, about 2 MB of modern Chinese) to stdout,
# cleaned for training: the terminal colour codes (some nested in others) removed, the box-drawing characters of its
# tables dropped, non-breaking spaces made plain and trailing spaces cut; then its fortunes, split at the `%` lines
# between them, are written in a fixed shuffled order, a blank line apart. The file runs from topic to topic (Debian's
# manuals, then classical poems…), so the shuffle is what lets a held-out tail (the platform's validation split) come
# from all of it.
#   bash infra/demo/fortunes-zh.sh [file] > chinese.txt     (setup.sh installs the package)
set -euo pipefail
source="${1:-/usr/share/games/fortunes/chinese}"
[ -r "$source" ] || { echo "fortunes-zh.sh: $source not found: apt-get install fortunes-zh" >&2; exit 1; }
perl -CSD -Mutf8 -MList::Util=shuffle -0777 -ne '
  1 while s/\e\[[0-9;]*m//g;
  s/[\x{2500}-\x{257F}]//g; s/\x{00A0}/ /g; s/[ \t]+$//mg;
  s/^%(?=[ \t]*\S)//mg;
  my @fortunes = grep { /\S/ } map { s/^\n+|\n+$//gr =~ s/\n{3,}/\n\n/gr } split /^%\n?/m;
  srand(1);
  print join("\n\n", shuffle @fortunes), "\n";
' "$source"
