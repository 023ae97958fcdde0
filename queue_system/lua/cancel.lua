-- Remove a job that has not started: ARGV[8] = id.
-- Returns {1, hash fields...} when removed, {0} when unknown, {-1} when
-- finished, {-2} when active (a running job is never pulled from its worker).
local id = ARGV[8]
local jk = JP .. id
if redis.call('EXISTS', jk) == 0 then return {0} end
if redis.call('ZSCORE', K_COMPLETED, id) or redis.call('ZSCORE', K_FAILED, id) then return {-1} end
local h = redis.call('HGETALL', jk)
if redis.call('ZREM', K_DELAYED, id) == 0 then
  local f = redis.call('HMGET', jk, 'sid', 'lane')
  if f[1] then
    local lane = tonumber(f[2])
    local p = redis.call('XPENDING', LANE_KEYS[lane], GROUP, f[1], f[1], 1)
    if p[1] then return {-2} end
    redis.call('XDEL', LANE_KEYS[lane], f[1])
    redis.call('HINCRBY', K_READY, lane, -1)
  end
end
redis.call('DEL', jk)
lifecycle('job_removed', id, 'JOB_STATE_UNSPECIFIED', 0)
local out = {1}
for _, v in ipairs(h) do out[#out + 1] = v end
return out
