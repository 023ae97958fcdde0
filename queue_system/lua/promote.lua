-- Move delayed jobs that are due into their lanes (at most ARGV[8] per call).
-- Returns {moved, ms until the next delayed job is due or -1}.
local due = redis.call('ZRANGEBYSCORE', K_DELAYED, '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[8]))
if #due > 0 then ensure_groups() end
for _, id in ipairs(due) do
  redis.call('ZREM', K_DELAYED, id)
  local lane = tonumber(redis.call('HGET', JP .. id, 'lane'))
  if lane then
    redis.call('HDEL', JP .. id, 'due')
    ready(id, lane)
    lifecycle('job_waiting', id, lane == 3 and 'JOB_STATE_WAITING' or 'JOB_STATE_PRIORITIZED', 0)
  end
end
local nxt = redis.call('ZRANGE', K_DELAYED, 0, 0, 'WITHSCORES')
local wait = -1
if nxt[2] then wait = math.max(0, tonumber(nxt[2]) - NOW) end
return {#due, wait}
