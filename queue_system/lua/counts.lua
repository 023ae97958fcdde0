-- Job counts by state. ARG[1] = ms within which a worker must have renewed
-- to count as alive. Returns {ready, active per lane x4, delayed, completed,
-- failed, paused (0/1), live workers, dead letters all time}.
-- Ready counts a lane's entries and the jobs of that lane waiting in their
-- group's line.
local out = {}
local ready = redis.call('HMGET', KEY.ready, 1, 2, 3, 4)
for lane = 1, LANES do
  local pending = 0
  local p = redis.pcall('XPENDING', LANE_KEYS[lane], WORKER_GROUP)
  if type(p) == 'table' and not p.err then pending = tonumber(p[1]) end
  local in_line = redis.call('ZCOUNT', KEY.grouped, score_text(lane * GROUP_LANE_SPAN),
    '(' .. score_text((lane + 1) * GROUP_LANE_SPAN))
  out[#out + 1] = (tonumber(ready[lane]) or 0) + in_line
  out[#out + 1] = pending
end
out[#out + 1] = redis.call('ZCARD', KEY.delayed)
out[#out + 1] = redis.call('ZCARD', KEY.completed)
out[#out + 1] = redis.call('ZCARD', KEY.failed)
out[#out + 1] = redis.call('EXISTS', KEY.paused)
out[#out + 1] = redis.call('ZCOUNT', KEY.workers, NOW - tonumber(ARG[1]), '+inf')
out[#out + 1] = tonumber(redis.call('HGET', KEY.stats, STAT.dead_lettered)) or 0
return out
