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
--   ESCCONF  0 or 1 x (period s, quiet s, participants, member states, stream maxlen,
--            "i0,i1,i2,i3,i4": the key indexes of the escalation streams, CLEAR to RED,
--            "live" or "retro": where the hits come from)
--   ESC      n, n x (key index of P:esc:<value>, key index of P:ind:<value>, value, window,
--            "<org>|<tlp 0-4>|<member state>|<sector>", hits): the escalation rule's input
--   OFFSETS  n, n x (field, recorded offset expected or "-" for none, next offset)
-- Returns the number of escalations raised (an integer), or an error: "STALE <field> <recorded>"
-- or "REFUSED <why>".
--
-- Escalation (docs/ESCALATION.md): per indicator, each participant's latest hit, the start of
-- its current run of hits (no gap of a period), the hits since and their strictest TLP are kept
-- in P:esc:<value>. After the batch's hits, at the indicator's latest hit ("now", event time),
-- the participants whose latest hit is less than a period before now are counted per audience
-- level L (those whose hits are at or below L): member states and participants, exactly. Where
-- the rule holds at L, and L counts someone the level below does not, an escalation of TLP L is
-- raised, unless one was raised at L before and it has not grown (a member state it did not
-- have, twice its participants) and the quiet period has not passed. Its id is derived from the
-- key, the level and its sequence number: the same hits give the same ids, and a batch applied
-- once raises once.

local TAG = 'cshield-flush/4'
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
local ec_at, ec_n = section(7)
local es_at, es_n = section(6)
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

-- 5. escalation state: every field of the indicators' P:esc parses (read once, kept for the writes)
local esc = nil
if es_n > 0 then
  if ec_n ~= 1 then
    return redis.error_reply('REFUSED flush escalation records without their parameters')
  end
  esc = {period = tonumber(ARGV[ec_at]), quiet = tonumber(ARGV[ec_at + 1]), kmin = tonumber(ARGV[ec_at + 2]),
         msmin = tonumber(ARGV[ec_at + 3]), maxlen = ARGV[ec_at + 4], streams = {}, states = {}, order = {},
         source = ARGV[ec_at + 6] == 'retro' and 'retro' or 'live'}
  for idx in string.gmatch(ARGV[ec_at + 5], '%d+') do esc.streams[#esc.streams + 1] = tonumber(idx) end
  if #esc.streams ~= 5 then
    return redis.error_reply('REFUSED flush escalation streams ' .. ARGV[ec_at + 5])
  end
  for r = 0, es_n - 1 do
    local a = es_at + 6 * r
    local k = tonumber(ARGV[a])
    local st = esc.states[k]
    if not st then
      st = {ki = tonumber(ARGV[a + 1]), value = ARGV[a + 2], o = {}, r = {}, recs = {}}
      local all = redis.call('HGETALL', KEYS[k])
      for j = 1, #all, 2 do
        local f, v = all[j], all[j + 1]
        local what, name = string.match(f, '^([or])|(.+)$')
        local ok = false
        if what == 'o' then
          local last, first, hits, tlp, ms, sector = string.match(v, '^(%-?%d+)|(%-?%d+)|(%d+)|([0-4])|([^|]*)|(.*)$')
          if last and #last <= 15 and #first <= 15 and #hits <= 15 then
            st.o[name] = {last = tonumber(last), first = tonumber(first), hits = tonumber(hits), tlp = tonumber(tlp),
                          ms = ms, sector = sector}
            ok = true
          end
        elseif what == 'r' then
          local at, msl, pc, seq, id = string.match(v, '^(%-?%d+)|([^|]*)|(%d+)|(%d+)|(.*)$')
          local L = tonumber(name)
          if at and L and L >= 0 and L <= 4 and #at <= 15 and #pc <= 9 and #seq <= 9 then
            st.r[L] = {at = tonumber(at), ms = msl, pc = tonumber(pc), seq = tonumber(seq), id = id}
            ok = true
          end
        end
        if not ok then
          return redis.error_reply('REFUSED key ' .. KEYS[k] .. ' field ' .. string.sub(f, 1, 64) .. ' holds "' ..
                                   string.sub(v, 1, 64) .. '", not escalation state (nothing was written)')
        end
      end
      esc.states[k] = st
      esc.order[#esc.order + 1] = k
    end
    local org, tlp, ms, sector = string.match(ARGV[a + 4], '^([^|]+)|([0-4])|([^|]*)|(.*)$')
    if not org then
      return redis.error_reply('REFUSED flush escalation hit ' .. string.sub(ARGV[a + 4], 1, 64))
    end
    st.recs[#st.recs + 1] = {w = tonumber(ARGV[a + 3]), org = org, tlp = tonumber(tlp), ms = ms, sector = sector,
                             n = tonumber(ARGV[a + 5])}
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
-- escalations: the hits into each indicator's state, then the rule at its latest hit
local TLPS = {'clear', 'green', 'amber', 'amber+strict', 'red'}
local function iso(t)
  -- seconds since the epoch as ISO 8601 UTC (days to civil date, H. Hinnant's algorithm)
  local days = math.floor(t / 86400)
  local sod = t - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  return string.format('%04d-%02d-%02dT%02d:%02d:%02dZ', y, m, d, math.floor(sod / 3600), math.floor(sod % 3600 / 60),
                       sod % 60)
end
local function uuid5(h)
  local v = string.sub('89ab', tonumber(string.sub(h, 17, 17), 16) % 4 + 1, tonumber(string.sub(h, 17, 17), 16) % 4 + 1)
  return string.sub(h, 1, 8) .. '-' .. string.sub(h, 9, 12) .. '-5' .. string.sub(h, 14, 16) .. '-' .. v ..
         string.sub(h, 18, 20) .. '-' .. string.sub(h, 21, 32)
end
local function jlist(t)
  local out = {}
  for _, s in ipairs(t) do out[#out + 1] = cjson.encode(s) end
  return '[' .. table.concat(out, ',') .. ']'
end
local raised = 0
local function escalate(k, st)
  local P = esc.period
  local now = nil
  for _, o in pairs(st.o) do
    if not now or o.last > now then now = o.last end
  end
  local inp = {}
  for org, o in pairs(st.o) do
    if now - o.last < P then inp[#inp + 1] = {org = org, o = o} end
  end
  table.sort(inp, function(x, y) return x.org < y.org end)
  local below = 0
  local meta = nil
  for L = 0, 4 do
    local S, msset, mslist, secset, seclist, hits, first = {}, {}, {}, {}, {}, 0, nil
    for _, p in ipairs(inp) do
      local o = p.o
      if o.tlp <= L then
        S[#S + 1] = p
        if o.ms ~= '' and o.ms ~= 'XX' and not msset[o.ms] then msset[o.ms] = true; mslist[#mslist + 1] = o.ms end
        if o.sector ~= '' and not secset[o.sector] then secset[o.sector] = true; seclist[#seclist + 1] = o.sector end
        hits = hits + o.hits
        if not first or o.first < first then first = o.first end
      end
    end
    table.sort(mslist)
    table.sort(seclist)
    local cross, multi = #mslist >= esc.msmin, #S >= esc.kmin
    -- the sets grow with L: as many as the level below means the same participants, told there
    if (cross or multi) and #S ~= below then
      local prev, why = st.r[L], nil
      if not prev then
        why = 'first'
      else
        local had = {}
        for m in string.gmatch(prev.ms, '[^,]+') do had[m] = true end
        for _, m in ipairs(mslist) do
          if not had[m] then why = 'new-member-state' break end
        end
        if not why and #S >= 2 * prev.pc then why = 'participants-doubled' end
        if not why and now - prev.at >= esc.quiet then why = 'still-active' end
      end
      if why then
        local seq = (prev and prev.seq or 0) + 1
        local id = 'escalation--' .. uuid5(redis.sha1hex(KEYS[k] .. '|' .. L .. '|' .. seq))
        if not meta then
          meta = redis.call('HMGET', KEYS[st.ki], 'type', 'tlp', 'source', 'tags', 'confidence', 'id')
        end
        local reasons = {}
        if cross then reasons[#reasons + 1] = 'cross-border' end
        if multi then reasons[#reasons + 1] = 'multi-organization' end
        local names = ''
        if L >= 2 then
          local ps = {}
          for _, p in ipairs(S) do
            ps[#ps + 1] = '{"id":' .. cjson.encode(p.org) .. ',"member_state":' .. cjson.encode(p.o.ms) ..
                          ',"sector":' .. cjson.encode(p.o.sector) .. ',"tlp":"' .. TLPS[p.o.tlp + 1] ..
                          '","hits":' .. p.o.hits .. ',"first_seen":"' .. iso(p.o.first) ..
                          '","last_seen":"' .. iso(p.o.last) .. '"}'
          end
          names = ',"names":[' .. table.concat(ps, ',') .. ']'
        end
        local conf = meta[5] and meta[5] ~= '' and meta[5] or 'null'
        local json = '{"id":"' .. id .. '","seq":' .. seq .. ',"tlp":"' .. TLPS[L + 1] .. '","source":"' .. esc.source .. '","reason":"' .. why ..
          '","rules":' .. jlist(reasons) .. ',"previous":' .. (prev and cjson.encode(prev.id) or 'null') ..
          ',"indicator":{"value":' .. cjson.encode(st.value) .. ',"type":' .. cjson.encode(meta[1] or '') ..
          ',"tlp":' .. cjson.encode(meta[2] or '') .. ',"source":' .. cjson.encode(meta[3] or '') ..
          ',"tags":' .. cjson.encode(meta[4] or '') .. ',"confidence":' .. conf ..
          ',"id":' .. cjson.encode(meta[6] or '') .. '},"member_states":' .. jlist(mslist) ..
          ',"participants":{"count":' .. #S .. names .. '},"sectors":' .. jlist(seclist) ..
          ',"first_seen":"' .. iso(first) .. '","last_seen":"' .. iso(now) .. '","hits":' .. hits ..
          ',"period_s":' .. P .. ',"thresholds":{"member_states":' .. esc.msmin .. ',"participants":' .. esc.kmin .. '}}'
        redis.call('XADD', KEYS[esc.streams[L + 1]], 'MAXLEN', '~', esc.maxlen, '*', 'id', id, 'tlp', TLPS[L + 1],
                   'escalation', json)
        redis.call('HSET', KEYS[k], 'r|' .. L, now .. '|' .. table.concat(mslist, ',') .. '|' .. #S .. '|' .. seq ..
                   '|' .. id)
        st.r[L] = {at = now, ms = table.concat(mslist, ','), pc = #S, seq = seq, id = id}
        raised = raised + 1
      end
    end
    below = #S
  end
end
if esc then
  for _, k in ipairs(esc.order) do
    local st = esc.states[k]
    -- in window order (then participant), so the state does not depend on the batch's order
    table.sort(st.recs, function(x, y)
      if x.w ~= y.w then return x.w < y.w end
      return x.org < y.org
    end)
    local touched = {}
    for r, h in ipairs(st.recs) do
      local o = st.o[h.org]
      if not o then
        o = {last = h.w, first = h.w, hits = h.n, tlp = h.tlp}
        st.o[h.org] = o
      elseif h.w > o.last then
        if h.w - o.last >= esc.period then
          o.first, o.hits, o.tlp = h.w, h.n, h.tlp -- a new run
        else
          o.hits = o.hits + h.n
          if h.tlp > o.tlp then o.tlp = h.tlp end
        end
        o.last = h.w
      elseif o.last - h.w < esc.period then
        o.hits = o.hits + h.n
        if h.w < o.first then o.first = h.w end
        if h.tlp > o.tlp then o.tlp = h.tlp end
      end
      o.ms, o.sector = h.ms, h.sector
      touched[h.org] = true
      -- the rule after each window's hits, as if each window had been flushed on its own
      local nxt = st.recs[r + 1]
      if not nxt or nxt.w ~= h.w then escalate(k, st) end
    end
    for org in pairs(touched) do
      local o = st.o[org]
      redis.call('HSET', KEYS[k], 'o|' .. org, o.last .. '|' .. o.first .. '|' .. o.hits .. '|' .. o.tlp .. '|' ..
                 o.ms .. '|' .. o.sector)
    end
  end
end
for k = 2, nkeys do
  if expires[k] and expires[k] > 0 then redis.call('EXPIRE', KEYS[k], expires[k]) end
end
for r = 0, of_n - 1 do
  local a = of_at + 3 * r
  redis.call('HSET', KEYS[1], ARGV[a], ARGV[a + 2])
end
return raised
