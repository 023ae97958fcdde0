-- Start up to ARG[1] jobs for this consumer, highest lane first, within the
-- shared rate limit (ARG[2] starts per ARG[3] ms; 0 = none).
-- Returns {1, then per job: lane, entry id, id, envelope, attempts made,
-- series start, deliveries, attempt deliveries}, {2} when paused,
-- {3, wait ms} when rate limited, or {0, last id of each lane} when nothing
-- is ready (the caller blocks on XREAD from those ids, so a job added after
-- this call still wakes it).
if redis.call('EXISTS', KEY.paused) == 1 then return {2} end
ensure_groups()
local want = tonumber(ARG[1])
local lim_max, lim_ms = tonumber(ARG[2]), tonumber(ARG[3])
if lim_max > 0 then
  redis.call('ZREMRANGEBYSCORE', KEY.limiter, '-inf', NOW - lim_ms)
  local used = redis.call('ZCARD', KEY.limiter)
  if used >= lim_max then
    local oldest = redis.call('ZRANGE', KEY.limiter, 0, 0, 'WITHSCORES')
    return {3, math.max(1, tonumber(oldest[2]) + lim_ms - NOW)}
  end
  want = math.min(want, lim_max - used)
end
local out = {1}
for lane = 1, LANES do
  if want <= 0 then break end
  local got = redis.call('XREADGROUP', 'GROUP', WORKER_GROUP, CONSUMER, 'COUNT', want,
    'STREAMS', LANE_KEYS[lane], '>')
  if got then
    redis.call('HINCRBY', KEY.ready, lane, -#got[1][2])
    for _, entry in ipairs(got[1][2]) do
      local entry_id, id = entry[1], entry[2][2]
      local jk = JOB_PREFIX .. id
      local h = redis.call('HMGET', jk, F.envelope, F.attempts_made, F.series_start, F.deliveries,
        F.attempt_deliveries)
      if not h[1] then
        -- the job was removed while it waited: nothing to run
        retire(lane, entry_id)
      else
        local attempts = tonumber(h[2]) or 0
        local deliveries, attempt_deliveries = (tonumber(h[4]) or 0) + 1, (tonumber(h[5]) or 0) + 1
        redis.call('HSET', jk, F.started_at, NOW, F.deliveries, deliveries,
          F.attempt_deliveries, attempt_deliveries, F.worker, CONSUMER)
        local n = #out
        out[n + 1], out[n + 2], out[n + 3], out[n + 4] = lane, entry_id, id, h[1]
        out[n + 5], out[n + 6], out[n + 7], out[n + 8] =
          attempts, tonumber(h[3]) or 0, deliveries, attempt_deliveries
        if lim_max > 0 then redis.call('ZADD', KEY.limiter, NOW, entry_id) end
        lifecycle('job_active', id, 'JOB_STATE_ACTIVE', attempts + 1)
        want = want - 1
      end
    end
  end
end
if #out > 1 then return out end
local last = {0}
for lane = 1, LANES do
  local e = redis.call('XREVRANGE', LANE_KEYS[lane], '+', '-', 'COUNT', 1)
  last[lane + 1] = e[1] and e[1][1] or '0-0'
end
return last
