// The Lua script the Redis store runs for a BATCH of decisions: every decision the edge process
// asked for in the same event-loop turn goes to Redis in one EVALSHA. Each decision is the same
// as before — ban check, limit_req update of every zone and the strike count — and the script
// runs them one after another in arrival order, atomically (a Lua script is never interleaved
// with other commands), so the result is exactly what one EVALSHA per request would have given
// with those requests arriving in that order. It mirrors leaky-bucket.ts and memory-store.ts line
// for line; the time is Redis's own clock (TIME, read once per batch), so edge hosts with skewed
// clocks still agree.
//
// ARGV[1..4] banTime factor maxBanTime forgetAfter   ARGV[5] number of decisions
// Then per decision, in order:
//   ARGV: mode ('h' hit the zones, 's' strike only), jail maxRetry (0 = no jail), jail findTime,
//         jail name, number of zones Z, then per zone: rate burst delay(-1 = nodelay) ttl
//   KEYS: ban (value = reason, PX = ban length), ban count, strike list, then Z bucket hashes
//         {e = excess, l = last ms}
// Returns {now, then per decision: bannedMs, freshBan, limitedZone(-1), retryMs, delayMs, delayZone(-1)}
// (zones 0-based).
export const FIREWALL_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local banTime, factor, cap, forgetAfter = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {now}
local a, k = 6, 1

local function strike(kban, kcount, kstrike, maxRetry, findTime, jail)
  if maxRetry <= 0 then return 0 end
  redis.call('LPUSH', kstrike, now)
  redis.call('LTRIM', kstrike, 0, maxRetry - 1)
  if redis.call('LLEN', kstrike) >= maxRetry then
    local oldest = tonumber(redis.call('LINDEX', kstrike, maxRetry - 1))
    if now - oldest <= findTime then
      redis.call('DEL', kstrike)
      local n = redis.call('INCR', kcount)
      local ms = math.floor(banTime * factor ^ (n - 1))
      if ms > cap then ms = cap end
      local forget = forgetAfter
      if ms > forget then forget = ms end
      redis.call('PEXPIRE', kcount, forget)
      redis.call('SET', kban, jail, 'PX', ms)
      return ms
    end
  end
  redis.call('PEXPIRE', kstrike, findTime)
  return 0
end

local function decide(mode, maxRetry, findTime, jail, nz, kz)
  local kban, kcount, kstrike = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local left = redis.call('PTTL', kban)
  if left > 0 then return left, 0, -1, 0, 0, -1 end
  if mode == 's' then
    local ms = strike(kban, kcount, kstrike, maxRetry, findTime, jail)
    if ms > 0 then return ms, 1, -1, 0, 0, -1 end
    return 0, 0, -1, 0, 0, -1
  end
  local excess, elapsed = {}, {}
  for i = 1, nz do
    local z = a + (i - 1) * 4
    local rate, burst = tonumber(ARGV[z]), tonumber(ARGV[z + 1])
    local st = redis.call('HMGET', KEYS[kz + i - 1], 'e', 'l')
    local e, ms = 0, -1
    if st[1] then
      ms = now - tonumber(st[2])
      if ms < -60000 then ms = 1 elseif ms < 0 then ms = 0 end
      e = tonumber(st[1]) - math.floor(rate * ms / 1000) + 1000
      if e < 0 then e = 0 end
    end
    if e > burst then
      local retry = math.ceil((e - burst) * 1000 / rate)
      if retry < 1 then retry = 1 end
      local banned = strike(kban, kcount, kstrike, maxRetry, findTime, jail)
      if banned > 0 then return banned, 1, i - 1, retry, 0, -1 end
      return 0, 0, i - 1, retry, 0, -1
    end
    excess[i], elapsed[i] = e, ms
  end
  local delay, delayZone = 0, -1
  for i = 1, nz do
    local z = a + (i - 1) * 4
    local rate, d, ttl = tonumber(ARGV[z]), tonumber(ARGV[z + 2]), tonumber(ARGV[z + 3])
    local key = KEYS[kz + i - 1]
    if elapsed[i] ~= 0 then
      redis.call('HSET', key, 'e', excess[i], 'l', now)
    else
      redis.call('HSET', key, 'e', excess[i])
    end
    redis.call('PEXPIRE', key, ttl)
    if d >= 0 and excess[i] > d then
      local wait = math.floor((excess[i] - d) * 1000 / rate)
      if wait > delay then delay, delayZone = wait, i - 1 end
    end
  end
  return 0, 0, -1, 0, delay, delayZone
end

for _ = 1, tonumber(ARGV[5]) do
  local mode, maxRetry, findTime, jail, nz = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3], tonumber(ARGV[a + 4])
  a = a + 5
  local r1, r2, r3, r4, r5, r6 = decide(mode, maxRetry, findTime, jail, nz, k + 3)
  local o = #out
  out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5], out[o + 6] = r1, r2, r3, r4, r5, r6
  a = a + nz * 4
  k = k + 3 + nz
end
return out
`
