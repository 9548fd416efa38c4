#!/usr/bin/env bash
# Regenerates docs/CONFIGURATION.md from the property tables in the code
# (cshield-ingest --dump-config-md) and docs/FORMATS.md from FORMATS.head.md,
# the decoder's tables (cshield-decode --rejections-md, --fields-md) and FORMATS.tail.md. Usage: deploy/gen-docs.sh [BUILD_DIR]
# Test 0007-cli fails when the committed file differs from the tables.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
{
cat <<'HEAD'
# Configuration

cshield-ingest reads a properties file in librdkafka's style (`cshield-ingest -c FILE`):
one `key=value` a line, `#` or `!` comment lines, blank lines, white space around keys and
values trimmed, a UTF-8 byte order mark ignored. In a value, a `#` after white space starts a
comment (`redis.host=10.0.0.5  # the primary`); write `\#` for a `#` that belongs to the value.
`-X key=value` (`--set`) on the command line sets one more property; every `-X` is applied
after every file, whatever their order on the command line.

- An **unknown key is an error** that names the key, the file and the line
  (`ingest.conf:4: unknown property "flush.intervall.ms"`), exit code 2. So is a key set twice
  in one file (`ingest.conf:9: "topics" is set twice (line 2 and line 9)`), a value out of its
  range or type, and what only the whole configuration can judge (a required property unset,
  an unknown TLP label or log level, `aggregate.key.prefix` empty or with characters other than
  letters, digits, `.`, `_` and `-`, a `group.id` empty or longer than 255 characters, a
  `metrics.listen` that is not `IPv4:PORT`): every
  configuration error exits 2 before anything connects; errors of `redis.*` and `decode.*` keys
  name the whole key (`property "redis.port": "x" is not an integer`).
- `kafka.*` keys pass through to librdkafka (`kafka.fetch.wait.max.ms=100` is
  `fetch.wait.max.ms=100` on the consumer); librdkafka validates them, and its error is
  reported with the line. `kafka.group.id`, `kafka.enable.auto.commit` and
  `kafka.enable.auto.offset.store` are refused: cshield owns them (offsets live in Redis).
  cshield's own defaults for the consumer: `auto.offset.reset=earliest` and
  `partition.assignment.strategy=cooperative-sticky` (incremental rebalancing: only the
  partitions that change owner stop; `kafka.partition.assignment.strategy=range` gives the
  eager protocol back, which cshield handles too).
- `redis.*` keys are hiredis connection options (hiredis has no configuration API of its
  own, so they are listed here).

The tables below are generated from the property tables in the code
(`deploy/gen-docs.sh` runs `cshield-ingest --dump-config-md`); test 0007-cli fails when this file is out of date.

HEAD
"$build/ingest/cshield-ingest" --dump-config-md
cat <<'TAIL'
## cshield-report

Command-line options only (`cshield-report --help`): `--from`, `--to` (ISO 8601, a plain
date such as `2026-12-04`, whose whole day `--to` takes in, or epoch seconds; `--from` after
`--to` is an error), `--redis HOST:PORT` (default `$CS_REDIS_ADDR`, else `127.0.0.1:6379`),
`--prefix` (as `aggregate.key.prefix`), `--window` (as `aggregate.window.s`), `--json`,
`--tlp LABEL`: the audience (`clear`, the public, by default; `green`, `amber`,
`amber+strict`, `red`). A window's hits are recorded per TLP (`P:wtlp`, the stricter of the
indicator's and the reporting participant's label, written by cshield-ingest in the same
transaction as the counts); a row shows only the parts at or below the audience's label, and
rows none of whose parts it may see are withheld, their number and hits printed in the
heading. Option errors exit 2; what Redis holds that ingest never wrote (a count that is not
one, a malformed field, a key of the wrong type, totals beyond 64 bits) exits 1 with the key
named.

## cshield-bench

Command-line options only (`cshield-bench --help`). `produce` takes its bootstrap servers
from `--brokers` or `$CS_KAFKA_BOOTSTRAP`.

## Environment of the test suite

| variable | set by | meaning |
|---|---|---|
| `CS_KAFKA_BOOTSTRAP` | `deploy/local/services.sh` (in `$CS_LOCAL_DIR/env`) | the local broker |
| `CS_REDIS_ADDR` | same | the local redis-server, `HOST:PORT` |
| `CS_REQUIRE_SERVICES` | `deploy/local/test.sh` | `1`: a `services` test fails instead of skipping when the two above are missing |
| `CS_SHARED_DATA` | CMake (`-DCS_SHARED_DATA=`), default `../shared/data` | the real public samples some unit tests read |
| `CS_LOCAL_DIR` | you, optional | scratch folder of the local services (default `/tmp/cshield-local-$UID`) |
| `CS_CACHE_DIR` | you, optional | cache of the broker jars (default `~/.cache/cshield`) |
TAIL
} > "$root/docs/CONFIGURATION.md"
echo "wrote $root/docs/CONFIGURATION.md"
{
cat "$root/docs/FORMATS.head.md"
"$build/decode/cshield-decode" --rejections-md
echo
echo "### Field maps (built in; add entries with \`decode.fields.<format>\`)"
echo
"$build/decode/cshield-decode" --fields-md
cat "$root/docs/FORMATS.tail.md"
} > "$root/docs/FORMATS.md"
echo "wrote $root/docs/FORMATS.md"
