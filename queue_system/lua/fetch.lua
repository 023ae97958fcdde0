-- Start up to ARGV[8] jobs for this consumer, highest lane first, within the
-- shared rate limit (ARGV[9] starts per ARGV[10] ms; 0 = none).
-- Returns {1, lane, sid, id, envelope, attempts made, deliveries, ...} with jobs,
-- {2} when paused, {3, wait ms} when rate limited, or
-- {0, last id of each lane} when nothing waits (the caller blocks on XREAD
-- from those ids, so a job added after this call still wakes it).
if redis.call('EXISTS', K_PAUSED) == 1 then return {2} end
ensure_groups()
local want = tonumber(ARGV[8])
local lim_max, lim_ms = tonumber(ARGV[9]), tonumber(ARGV[10])
if lim_max > 0 then
  redis.call('ZREMRANGEBYSCORE', K_LIMITER, '-inf', NOW - lim_ms)
  local used = redis.call('ZCARD', K_LIMITER)
  if used >= lim_max then
    local oldest = redis.call('ZRANGE', K_LIMITER, 0, 0, 'WITHSCORES')
    return {3, math.max(1, tonumber(oldest[2]) + lim_ms - NOW)}
  end
  want = math.min(want, lim_max - used)
end
local out = {1}
for lane = 1, 4 do
  if want <= 0 then break end
  local got = redis.call('XREADGROUP', 'GROUP', GROUP, ME, 'COUNT', want, 'STREAMS', LANE_KEYS[lane], '>')
  if got then
    redis.call('HINCRBY', K_READY, lane, -#got[1][2])
    for _, entry in ipairs(got[1][2]) do
      local sid, id = entry[1], entry[2][2]
      local jk = JP .. id
      local h = redis.call('HMGET', jk, 'env', 'att', 'dlv')
      if not h[1] then
        -- the job was removed while it waited: nothing to run
        retire(lane, sid)
      else
        local dlv = (tonumber(h[3]) or 0) + 1
        redis.call('HSET', jk, 'pon', NOW, 'dlv', dlv)
        local n = #out
        out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5], out[n + 6] =
          lane, sid, id, h[1], tonumber(h[2]) or 0, dlv
        if lim_max > 0 then redis.call('ZADD', K_LIMITER, NOW, sid) end
        lifecycle('job_active', id, 'JOB_STATE_ACTIVE', (tonumber(h[2]) or 0) + 1)
        want = want - 1
      end
    end
  end
end
if #out > 1 then return out end
local last = {0}
for lane = 1, 4 do
  local e = redis.call('XREVRANGE', LANE_KEYS[lane], '+', '-', 'COUNT', 1)
  last[lane + 1] = e[1] and e[1][1] or '0-0'
end
return last
