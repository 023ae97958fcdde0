-- Housekeeping, run now and then by every worker: delete consumers that hold
-- nothing and have been silent for ARG[1] ms, and forget workers that have
-- not renewed for as long. A consumer that still holds jobs is never deleted
-- (that would drop its pending entries); its jobs are reclaimed first.
-- It also heals groups, so none can wait forever: a slot whose holder is not
-- in its lane (its record was deleted by hand, or a script stopped half-way)
-- passes on. (A line without a slot holder is not moved: its holder may be in
-- a lane with its slot lost, and running a second job of the group is worse.)
-- Returns the number of consumers deleted.
local silent_ms = tonumber(ARG[1])
for lane = 1, LANES do
  if redis.call('EXISTS', LANE_KEYS[lane]) == 1 then trim(lane) end
end
local deleted = 0
for lane = 1, LANES do
  local info = redis.pcall('XINFO', 'CONSUMERS', LANE_KEYS[lane], WORKER_GROUP)
  if type(info) == 'table' and not info.err then
    for _, c in ipairs(info) do
      local name, pending, idle
      for i = 1, #c, 2 do
        if c[i] == 'name' then name = c[i + 1]
        elseif c[i] == 'pending' then pending = tonumber(c[i + 1])
        elseif c[i] == 'idle' then idle = tonumber(c[i + 1]) end
      end
      if name ~= CONSUMER and pending == 0 and idle >= silent_ms then
        redis.call('XGROUP', 'DELCONSUMER', LANE_KEYS[lane], WORKER_GROUP, name)
        deleted = deleted + 1
      end
    end
  end
end
redis.call('ZREMRANGEBYSCORE', KEY.workers, '-inf', NOW - silent_ms)
local slots = redis.call('HGETALL', KEY.groups)
for i = 1, #slots, 2 do
  local g, holder = slots[i], slots[i + 1]
  local h = redis.call('HMGET', JOB_PREFIX .. holder, F.entry_id, F.lane)
  local lane = tonumber(h[2])
  if not (h[1] and lane and redis.call('XRANGE', LANE_KEYS[lane], h[1], h[1])[1]) then group_pass(g) end
end
return deleted
