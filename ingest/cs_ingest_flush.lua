-- cs_ingest_flush.lua - cshield-ingest's flush: one batch of aggregates and
-- the Kafka offsets they cover, applied all or nothing.
--
-- Embedded in cshield-ingest at build time and run with EVALSHA, one call per
-- flush (ingest/cs_ingest_flush.c builds the call; docs/REDIS.md). Redis does
-- not roll a script back when a command fails part-way, so this script checks
-- everything that can fail before its first write:
--   1. every key it will write holds the type it expects, or nothing;
--   2. every partition's recorded offset is the one the batch started from
--      (else STALE: the batch was already applied, or the partition moved on);
--   3. every hash field it will increment holds an integer that the increment
--      keeps within 64 bits (refused from +-9.2e18: Lua's numbers are doubles);
--   4. every hash field it keeps a minimum or maximum in holds an integer;
--   5. the alert stream can still take an entry.
-- A failed check is an error reply that names the key (and field) and writes
-- nothing. Then it writes, the offsets last. Once a script has written,
-- Redis lets it finish even above maxmemory, so a flush is never cut short.
--
-- KEYS: the key table. KEYS[1] is the offsets hash P:off:<group>; every other
-- key the flush writes is listed once and referred to by its index.
--
-- ARGV, in order (n: a count, then n records):
--   [1]  the layout tag "cshield-flush/3"
--   [2]  ttl: seconds of EXPIRE for the keys marked '+' ("0": none)
--   [3 .. 2+#KEYS]  the kind of each key: "hash", "zset", "hll" or "stream",
--        with a '+' suffix for keys that expire after ttl, or '+<seconds>' for
--        keys that expire after their own period (the roll-ups) (KEYS[1]: "hash")
--   then the sections:
--   HINCRBY  n, n x (key index, field, delta)
--   ZINCRBY  n, n x (key index, member, delta)
--   ZADD     n, n x (key index, member, score)
--   PFADD    n, n x (key index, element)
--   HMIN     n, n x (key index, field, integer): the field becomes the integer if absent or larger
--   HMAX     n, n x (key index, field, integer): the field becomes the integer if absent or smaller
--   HSET     n, n x (key index, field, value)
--   XADD     n, n x (key index, approximate maxlen, field, value, field, value)
--   OFFSETS  n, n x (field, recorded offset expected or "-" for none, next offset)
-- Returns "OK", or an error: "STALE <field> <recorded>" or "REFUSED <why>".

local TAG = 'cshield-flush/3'
if ARGV[1] ~= TAG then
  return redis.error_reply('REFUSED flush layout ' .. tostring(ARGV[1]) .. ', this script reads ' .. TAG)
end
local ttl = tonumber(ARGV[2])
local nkeys = #KEYS
local kind, expires = {}, {}
for k = 1, nkeys do
  local s = ARGV[2 + k]
  local base, plus, own = string.match(s, '^(%a+)(%+?)(%d*)$')
  if not base or (own ~= '' and plus == '') then
    return redis.error_reply('REFUSED flush key kind ' .. tostring(s))
  end
  if plus == '+' then
    expires[k] = own ~= '' and tonumber(own) or ttl
  end
  kind[k] = base
end

-- the sections, read once
local i = 3 + nkeys
local function section(width)
  local n = tonumber(ARGV[i])
  local first = i + 1
  i = first + n * width
  return first, n
end
local hi_at, hi_n = section(3)
local zi_at, zi_n = section(3)
local za_at, za_n = section(3)
local pf_at, pf_n = section(2)
local mn_at, mn_n = section(3)
local mx_at, mx_n = section(3)
local hs_at, hs_n = section(3)
local xa_at, xa_n = section(6)
local of_at, of_n = section(3)
if i - 1 ~= #ARGV then
  return redis.error_reply('REFUSED flush arguments: ' .. #ARGV .. ' given, ' .. (i - 1) .. ' described')
end

-- 1. key types
local want = {hash = 'hash', zset = 'zset', hll = 'string', stream = 'stream'}
for k = 1, nkeys do
  local t = redis.call('TYPE', KEYS[k])['ok']
  if t ~= 'none' then
    if t ~= want[kind[k]] then
      return redis.error_reply('REFUSED key ' .. KEYS[k] .. ' holds a ' .. t .. ', cshield writes a ' ..
                               kind[k] .. ' there (nothing was written)')
    end
    if kind[k] == 'hll' and redis.call('GETRANGE', KEYS[k], 0, 3) ~= 'HYLL' then
      return redis.error_reply('REFUSED key ' .. KEYS[k] .. ' holds a string that is not a HyperLogLog ' ..
                               '(nothing was written)')
    end
    if kind[k] == 'stream' then
      local info = redis.call('XINFO', 'STREAM', KEYS[k])
      for f = 1, #info, 2 do
        if info[f] == 'last-generated-id' and info[f + 1] == '18446744073709551615-18446744073709551615' then
          return redis.error_reply('REFUSED stream ' .. KEYS[k] .. ' has used its last possible id ' ..
                                   '(nothing was written)')
        end
      end
    end
  end
end

-- 2. offsets
for r = 0, of_n - 1 do
  local a = of_at + 3 * r
  local cur = redis.call('HGET', KEYS[1], ARGV[a])
  local exp = ARGV[a + 1]
  if (exp == '-' and cur) or (exp ~= '-' and cur ~= exp) then
    return redis.error_reply('STALE ' .. ARGV[a] .. ' ' .. tostring(cur))
  end
end

-- 3. hash fields: the increments of each (key, field) summed, checked against what is there
local sums, order = {}, {}
for r = 0, hi_n - 1 do
  local a = hi_at + 3 * r
  local k, f = tonumber(ARGV[a]), ARGV[a + 1]
  local byf = sums[k]
  if not byf then
    byf = {}
    sums[k] = byf
    order[#order + 1] = k
  end
  byf[f] = (byf[f] or 0) + tonumber(ARGV[a + 2])
end
local LIMIT = 9.2e18
for _, k in ipairs(order) do
  local fields = {}
  for f in pairs(sums[k]) do fields[#fields + 1] = f end
  -- HMGET in slices: Lua's unpack has a limit on arguments
  for s = 1, #fields, 1000 do
    local slice = {}
    for j = s, math.min(s + 999, #fields) do slice[#slice + 1] = fields[j] end
    local cur = redis.call('HMGET', KEYS[k], unpack(slice))
    for j = 1, #slice do
      local v = cur[j]
      local f = slice[j]
      local now = 0
      if v then
        if not (v == '0' or string.match(v, '^%-?[1-9]%d*$')) or #v > 20 then
          return redis.error_reply('REFUSED key ' .. KEYS[k] .. ' field ' .. f .. ' holds "' ..
                                   string.sub(v, 1, 64) .. '", not an integer (nothing was written)')
        end
        now = tonumber(v)
      end
      local after = now + sums[k][f]
      if now >= LIMIT or now <= -LIMIT or after >= LIMIT or after <= -LIMIT then
        return redis.error_reply('REFUSED key ' .. KEYS[k] .. ' field ' .. f .. ' holds ' .. v ..
                                 ': adding ' .. string.format('%.0f', sums[k][f]) ..
                                 ' would leave 64 bits (nothing was written)')
      end
    end
  end
end

-- 4. fields kept as a minimum or maximum hold integers (a count's check, without the sum)
local function integer_field(k, f)
  local v = redis.call('HGET', KEYS[k], f)
  if v and not (v == '0' or string.match(v, '^%-?[1-9]%d*$')) or (v and #v > 20) then
    return nil, redis.error_reply('REFUSED key ' .. KEYS[k] .. ' field ' .. f .. ' holds "' ..
                                  string.sub(v, 1, 64) .. '", not an integer (nothing was written)')
  end
  return v and tonumber(v) or false
end
for _, sec in ipairs({{mn_at, mn_n}, {mx_at, mx_n}}) do
  for r = 0, sec[2] - 1 do
    local a = sec[1] + 3 * r
    local _, err = integer_field(tonumber(ARGV[a]), ARGV[a + 1])
    if err then return err end
  end
end

-- writes, the offsets last
for r = 0, hi_n - 1 do
  local a = hi_at + 3 * r
  redis.call('HINCRBY', KEYS[tonumber(ARGV[a])], ARGV[a + 1], ARGV[a + 2])
end
for r = 0, zi_n - 1 do
  local a = zi_at + 3 * r
  redis.call('ZINCRBY', KEYS[tonumber(ARGV[a])], ARGV[a + 2], ARGV[a + 1])
end
for r = 0, za_n - 1 do
  local a = za_at + 3 * r
  redis.call('ZADD', KEYS[tonumber(ARGV[a])], ARGV[a + 2], ARGV[a + 1])
end
for r = 0, pf_n - 1 do
  local a = pf_at + 2 * r
  redis.call('PFADD', KEYS[tonumber(ARGV[a])], ARGV[a + 1])
end
for r = 0, mn_n - 1 do
  local a = mn_at + 3 * r
  local k, f, v = tonumber(ARGV[a]), ARGV[a + 1], tonumber(ARGV[a + 2])
  local cur = redis.call('HGET', KEYS[k], f)
  if not cur or tonumber(cur) > v then redis.call('HSET', KEYS[k], f, ARGV[a + 2]) end
end
for r = 0, mx_n - 1 do
  local a = mx_at + 3 * r
  local k, f, v = tonumber(ARGV[a]), ARGV[a + 1], tonumber(ARGV[a + 2])
  local cur = redis.call('HGET', KEYS[k], f)
  if not cur or tonumber(cur) < v then redis.call('HSET', KEYS[k], f, ARGV[a + 2]) end
end
for r = 0, hs_n - 1 do
  local a = hs_at + 3 * r
  redis.call('HSET', KEYS[tonumber(ARGV[a])], ARGV[a + 1], ARGV[a + 2])
end
for r = 0, xa_n - 1 do
  local a = xa_at + 6 * r
  redis.call('XADD', KEYS[tonumber(ARGV[a])], 'MAXLEN', '~', ARGV[a + 1], '*', ARGV[a + 2], ARGV[a + 3],
             ARGV[a + 4], ARGV[a + 5])
end
for k = 2, nkeys do
  if expires[k] and expires[k] > 0 then redis.call('EXPIRE', KEYS[k], expires[k]) end
end
for r = 0, of_n - 1 do
  local a = of_at + 3 * r
  redis.call('HSET', KEYS[1], ARGV[a], ARGV[a + 2])
end
return 'OK'
