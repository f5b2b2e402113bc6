# Helpers shared by the seed scripts (sourced). AWS, ENDPOINT and
# AWS_SHARED_CREDENTIALS_FILE come from the test.
iot() { "$AWS" --endpoint-url "$ENDPOINT" --output json iot "$@"; }
# field PATH reads a dotted path (numbers index lists) from JSON on stdin.
field() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[int(k)] if k.isdigit() else d[k]
print(d)' "$1"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
contains() { [[ $1 == *"$2"* ]]; }
# waitfor FILE TEXT: until FILE contains TEXT (30 s).
waitfor() {
  for _ in $(seq 1 300); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "timed out waiting for '$2' in $1: $(cat "$1" 2>/dev/null)"
}
