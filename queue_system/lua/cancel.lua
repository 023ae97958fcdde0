-- Remove a job that has not started: ARG[1] = id.
-- Returns {1, hash fields...} when removed, {0} when unknown, {-1} when
-- finished, {-2} when active (a running job is never pulled from its worker).
local id = ARG[1]
local jk = JOB_PREFIX .. id
if redis.call('EXISTS', jk) == 0 then return {0} end
if redis.call('ZSCORE', KEY.completed, id) or redis.call('ZSCORE', KEY.failed, id) then return {-1} end
local h = redis.call('HGETALL', jk)
if redis.call('ZREM', KEY.delayed, id) == 0 then
  local f = redis.call('HMGET', jk, F.entry_id, F.lane)
  if f[1] then
    local lane = tonumber(f[2])
    local p = redis.call('XPENDING', LANE_KEYS[lane], WORKER_GROUP, f[1], f[1], 1)
    if p[1] then return {-2} end
    redis.call('XDEL', LANE_KEYS[lane], f[1])
    redis.call('HINCRBY', KEY.ready, lane, -1)
  end
end
redis.call('DEL', jk)
lifecycle('job_removed', id, 'JOB_STATE_UNSPECIFIED', 0)
local out = {1}
for _, v in ipairs(h) do out[#out + 1] = v end
return out
