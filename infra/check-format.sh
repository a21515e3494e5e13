#!/usr/bin/env bash
# The house style, checked: the C# as `dotnet format whitespace` would write it (.editorconfig), and no line of the
# project's own sources longer than 120 characters (EF Core's generated migrations and vendored files aside). Exits
# non-zero, naming what is off. infra/test.sh counts it as one test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
status=0
for solution in Platform.sln infra/bench/Benchmarks.slnx; do
  if ! dotnet format whitespace "$solution" --verify-no-changes -v q; then
    echo "check-format: $solution is not formatted: run dotnet format whitespace $solution" >&2
    status=1
  fi
done
# Files whose lines are held to 120 characters: everything of these kinds that git tracks or would.
long=$(git ls-files --cached --others --exclude-standard -- '*.cs' '*.sh' '*.js' '*.css' '*.html' '*.json' \
         '*.yml' '*.yaml' '*.sql' '*.py' '*.csproj' '*.props' '*.targets' '*.slnx' '.ci/run' '*Dockerfile' \
       | grep -v -e '/Migrations/' -e '/vendor/' \
       | while read -r file; do if [ -f "$file" ]; then echo "$file"; fi; done \
       | xargs -r perl -CSD -ne 'chomp; print "$ARGV:$.: ", length, " characters\n" if length > 120; close ARGV if eof')
if [ -n "$long" ]; then
  echo "check-format: lines over 120 characters:" >&2
  echo "$long" >&2
  status=1
fi
exit "$status"
