-- Remove a job that has not started: ARG[1] = id.
-- Returns {1, hash fields...} when removed, {0} when unknown, {-1} when
-- finished (or superseded), {-2} when active (a running job is never pulled
-- from its worker). A job of a group leaves its group's line, or, when it
-- held the group's slot (ready in its lane), passes the slot on.
local id = ARG[1]
local jk = JOB_PREFIX .. id
if redis.call('EXISTS', jk) == 0 then return {0} end
if redis.call('ZSCORE', KEY.completed, id) or redis.call('ZSCORE', KEY.failed, id)
  or redis.call('ZSCORE', KEY.superseded, id) then
  return {-1}
end
local h = redis.call('HGETALL', jk)
local g = redis.call('HGET', jk, F.group)
if redis.call('ZREM', KEY.delayed, id) == 0 and not (g and redis.call('ZREM', KEY.grouped, id) == 1) then
  local f = redis.call('HMGET', jk, F.entry_id, F.lane)
  if f[1] then
    local lane = tonumber(f[2])
    local p = redis.call('XPENDING', LANE_KEYS[lane], WORKER_GROUP, f[1], f[1], 1)
    if p[1] then return {-2} end
    redis.call('XDEL', LANE_KEYS[lane], f[1])
    redis.call('HINCRBY', KEY.ready, lane, -1)
  end
end
if g then redis.call('ZREM', GROUP_PREFIX .. g, id) end
redis.call('DEL', jk)
lifecycle('job_removed', id, 'JOB_STATE_UNSPECIFIED', 0)
if g then group_leave(id, g) end
local out = {1}
for _, v in ipairs(h) do out[#out + 1] = v end
return out
