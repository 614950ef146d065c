// The Lua script the Redis store runs for a BATCH of decisions: every decision the edge process
// asked for in the same event-loop turn goes to Redis in one EVALSHA. Each decision is the same
// as one request's decision always was — ban check, limit_req update of every zone and the strike
// count — and the script runs them one after another in arrival order, atomically (a Lua script
// is never interleaved with other commands), so the result is exactly what one EVALSHA per request
// would have given with those requests arriving in that order. It mirrors leaky-bucket.ts and
// memory-store.ts line for line; the time is Redis's own clock (TIME, read once per batch), so
// edge hosts with skewed clocks still agree.
//
// Redis work per batch rather than per decision: the bans and buckets of the whole batch are read
// with one MGET each, decisions update a table, and each bucket that changed is written once at
// the end (SET … PX). Bans a decision imposes go into the same table, so a later decision of the
// batch sees them exactly as it would have seen the key. What is the same for many decisions (the
// jail and the zones' rate/burst/delay/ttl: a "profile") is sent once per batch.
//
// ARGV[1] key prefix   ARGV[2..5] banTime factor maxBanTime forgetAfter
// ARGV[6] number of profiles P, then per profile: mode ('h' hit the zones, 's' strike only),
//         jail maxRetry (0 = no jail), jail findTime, jail name, number of zones Z, then per zone:
//         rate burst delay(-1 = nodelay) ttl
// Then the number of decisions D, then per decision its profile (1-based) — unless P is 1: then
// every decision has profile 1 and none is sent.
// KEYS: first each decision's ban key (PREFIX b:GROUP; value = reason, PX = ban length), then each
//   decision's Z bucket keys in order (PREFIX r:ZONE:KEY; a string 'EXCESS LAST_MS', PX = the
//   zone's ttl). The ban count (PREFIX n:GROUP) and strike list (PREFIX s:JAIL:GROUP) keys are
//   derived from the ban key on the rare paths that touch them.
// Returns {now, flags, then for each decision flagged 1: bannedMs, freshBan, limitedZone(-1),
// retryMs, delayMs, delayZone(-1)} (zones 0-based). `flags` is one string with a character per
// decision: '0' when it is plain "go on" (no ban, no limit, no delay: nearly every decision), '1'
// when its six numbers follow. An ordinary decision so costs one byte of the reply, and the edge
// reads it with one byte comparison instead of parsing an integer element.
export const FIREWALL_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local prefix = ARGV[1]
local banTime, factor, cap, forgetAfter = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])

local profiles = {}
local a = 7
for p = 1, tonumber(ARGV[6]) do
  local nz = tonumber(ARGV[a + 4])
  local pr = {mode = ARGV[a], maxRetry = tonumber(ARGV[a + 1]), findTime = tonumber(ARGV[a + 2]), jail = ARGV[a + 3], nz = nz, rate = {}, burst = {}, delay = {}, ttl = {}}
  a = a + 5
  for i = 1, nz do
    pr.rate[i], pr.burst[i], pr.delay[i], pr.ttl[i] = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3]
    a = a + 4
  end
  profiles[p] = pr
end
local count = tonumber(ARGV[a])
local first = a + 1
local single = tonumber(ARGV[6]) == 1

-- KEYS holds the decisions' ban keys first (one each), then their bucket keys in order.
local nb = #KEYS - count
local starts = {}
local decisions = {}
local k = count + 1
for d = 1, count do
  local pr = single and profiles[1] or profiles[tonumber(ARGV[first + d - 1])]
  decisions[d], starts[d] = pr, k
  k = k + pr.nz
end

-- Bans: remaining ms per ban key (0 = none). Only keys that exist need a PTTL.
local banLeft = {}
local found = redis.call('MGET', unpack(KEYS, 1, count))
for i = 1, count do
  local kb = KEYS[i]
  local left = 0
  if found[i] then
    left = redis.call('PTTL', kb)
    if left < 0 then left = 0 end
  end
  banLeft[kb] = left
end

-- Buckets: excess and last per key (nil = none); changed ones are written back at the end.
local bExcess, bLast, bTtl = {}, {}, {}
if nb > 0 then
  local vals = redis.call('MGET', unpack(KEYS, count + 1, #KEYS))
  for i = 1, nb do
    local v = vals[i]
    if v then
      local e, l = string.match(v, '^(%d+) (%d+)$')
      local kz = KEYS[count + i]
      bExcess[kz], bLast[kz] = tonumber(e), tonumber(l)
    end
  end
end

local function strike(kban, pr)
  local maxRetry = pr.maxRetry
  if maxRetry <= 0 then return 0 end
  local group = string.sub(kban, #prefix + 3)
  local kstrike, kcount = prefix .. 's:' .. pr.jail .. ':' .. group, prefix .. 'n:' .. group
  redis.call('LPUSH', kstrike, now)
  redis.call('LTRIM', kstrike, 0, maxRetry - 1)
  if redis.call('LLEN', kstrike) >= maxRetry then
    local oldest = tonumber(redis.call('LINDEX', kstrike, maxRetry - 1))
    if now - oldest <= pr.findTime then
      redis.call('DEL', kstrike)
      local n = redis.call('INCR', kcount)
      local ms = math.floor(banTime * factor ^ (n - 1))
      if ms > cap then ms = cap end
      local forget = forgetAfter
      if ms > forget then forget = ms end
      redis.call('PEXPIRE', kcount, forget)
      redis.call('SET', kban, pr.jail, 'PX', ms)
      banLeft[kban] = ms
      return ms
    end
  end
  redis.call('PEXPIRE', kstrike, pr.findTime)
  return 0
end

local excess, elapsed = {}, {}
local function decide(pr, kban, k)
  local left = banLeft[kban]
  if left > 0 then return left, 0, -1, 0, 0, -1 end
  if pr.mode == 's' then
    local ms = strike(kban, pr)
    if ms > 0 then return ms, 1, -1, 0, 0, -1 end
    return 0, 0, -1, 0, 0, -1
  end
  local nz, rates = pr.nz, pr.rate
  for i = 1, nz do
    local key = KEYS[k + i - 1]
    local rate, burst = rates[i], pr.burst[i]
    local se = bExcess[key]
    local e, ms = 0, -1
    if se then
      ms = now - bLast[key]
      if ms < -60000 then ms = 1 elseif ms < 0 then ms = 0 end
      e = se - math.floor(rate * ms / 1000) + 1000
      if e < 0 then e = 0 end
    end
    if e > burst then
      local retry = math.ceil((e - burst) * 1000 / rate)
      if retry < 1 then retry = 1 end
      local banned = strike(kban, pr)
      if banned > 0 then return banned, 1, i - 1, retry, 0, -1 end
      return 0, 0, i - 1, retry, 0, -1
    end
    excess[i], elapsed[i] = e, ms
  end
  local delay, delayZone = 0, -1
  for i = 1, nz do
    local key = KEYS[k + i - 1]
    local e = excess[i]
    bExcess[key] = e
    if elapsed[i] ~= 0 then bLast[key] = now end
    bTtl[key] = pr.ttl[i]
    local d = pr.delay[i]
    if d >= 0 and e > d then
      local wait = math.floor((e - d) * 1000 / rates[i])
      if wait > delay then delay, delayZone = wait, i - 1 end
    end
  end
  return 0, 0, -1, 0, delay, delayZone
end

local out = {now, ''}
local flags = {}
local o = 3
for d = 1, count do
  local r1, r2, r3, r4, r5, r6 = decide(decisions[d], KEYS[d], starts[d])
  if r1 == 0 and r3 == -1 and r5 == 0 then
    flags[d] = '0'
  else
    flags[d] = '1'
    out[o], out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5] = r1, r2, r3, r4, r5, r6
    o = o + 6
  end
end
out[2] = table.concat(flags)

for i = count + 1, #KEYS do
  local kz = KEYS[i]
  local ttl = bTtl[kz]
  if ttl then
    redis.call('SET', kz, string.format('%d %d', bExcess[kz], bLast[kz]), 'PX', ttl)
    bTtl[kz] = nil
  end
end
return out
`
