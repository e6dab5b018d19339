#!/usr/bin/env bash
# Tests scripts/kafka.sh's cluster ids without starting a broker (no Java, no Maven):
#   - N ids (default 2000) from new_cluster_id: none begins with '-', each is a 22-character
#     URL-safe base64 Kafka Uuid of 16 bytes (it decodes back to exactly 16 bytes);
#   - a cached cluster.id beginning with '-' (as older versions wrote about once in 64 starts), an
#     empty one and a malformed one are replaced, with a log line, and the new id is cached;
#   - a valid cached id is kept as is.
#
#   scripts/test-kafka-cluster-id.sh [N]      exit 0 when every check passes
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COUNT="${1:-2000}"
[[ "$COUNT" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [N]" >&2; exit 2; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
export AIQ_DEV_DIR="$TMP/dev"
# shellcheck source=scripts/kafka.sh
source "$ROOT/scripts/kafka.sh"
mkdir -p "$STATE"

failures=0
fail() { echo "FAIL: $*" >&2; failures=$(( failures + 1 )); }

# 16 bytes back from an id: URL-safe base64 without padding -> standard base64 with '=='
decoded_length() { # id
  printf '%s==' "$1" | tr -- '-_' '+/' | base64 -d 2>/dev/null | wc -c
}

# 1. generated ids
declare -A seen=()
dashes=0
for (( i = 0; i < COUNT; i++ )); do
  id="$(new_cluster_id)"
  [[ "$id" == -* ]] && dashes=$(( dashes + 1 ))
  if [[ ! "$id" =~ ^[A-Za-z0-9_-]{22}$ ]]; then
    fail "id '$id' is not 22 URL-safe base64 characters"
  elif [[ "$(decoded_length "$id")" != 16 ]]; then
    fail "id '$id' does not decode to 16 bytes"
  elif ! valid_cluster_id "$id"; then
    fail "valid_cluster_id refuses the generated id '$id'"
  fi
  [[ -n "${seen[$id]:-}" ]] && fail "id '$id' generated twice"
  seen[$id]=1
done
(( dashes == 0 )) || fail "$dashes of $COUNT generated ids begin with '-'"
echo "generated $COUNT ids: ${#seen[@]} distinct, $dashes beginning with '-'"

# 2. valid_cluster_id on known cases
for id in -3bPfxQlT5yVhCdW0f4a3g q1Sh-9_0TIuCaQe7t7JN1w AAAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAAQ \
    q1Sh-9_0TIuCaQe7t7JN1 q1Sh-9_0TIuCaQe7t7JN1wx q1Sh+9/0TIuCaQe7t7JN1w q1Sh-9_0TIuCaQe7t7JN1x; do
  expected=refused
  [[ "$id" == q1Sh-9_0TIuCaQe7t7JN1w ]] && expected=accepted
  actual=refused
  valid_cluster_id "$id" && actual=accepted
  [[ "$actual" == "$expected" ]] || fail "valid_cluster_id '$id': $actual, expected $expected"
done

# 3. the cached id: a bad one is replaced (with a log line) and the new one cached; a good one kept
for bad in -3bPfxQlT5yVhCdW0f4a3g "" "not a cluster id"; do
  printf '%s\n' "$bad" >"$CLUSTER_ID_FILE"
  id="$(cluster_id 2>"$TMP/log")"
  valid_cluster_id "$id" || fail "cached '$bad': cluster_id gave the unusable '$id'"
  [[ "$(cat "$CLUSTER_ID_FILE")" == "$id" ]] || fail "cached '$bad': the new id '$id' is not cached"
  if [[ -n "$bad" ]] && ! grep -q 'not a usable Kafka cluster id' "$TMP/log"; then
    fail "cached '$bad': replaced without a log line"
  fi
done
echo "a cached '-3bPfxQlT5yVhCdW0f4a3g' is replaced: $(printf '%s\n' -3bPfxQlT5yVhCdW0f4a3g >"$CLUSTER_ID_FILE"; cluster_id 2>/dev/null)"
good=q1Sh-9_0TIuCaQe7t7JN1w
echo "$good" >"$CLUSTER_ID_FILE"
[[ "$(cluster_id 2>/dev/null)" == "$good" ]] || fail "the valid cached id '$good' was not kept"

if (( failures > 0 )); then
  echo "kafka cluster id: $failures check(s) failed" >&2
  exit 1
fi
echo "kafka cluster id: ok"
