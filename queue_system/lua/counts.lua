-- Job counts by state. ARGV[8] = ms within which a worker must have renewed
-- to count as alive. Returns {waiting, active per lane x4, delayed, completed,
-- failed, paused (0/1), live workers, dead letters all time}.
local out = {}
local ready = redis.call('HMGET', K_READY, 1, 2, 3, 4)
for lane = 1, 4 do
  local pending = 0
  local p = redis.pcall('XPENDING', LANE_KEYS[lane], GROUP)
  if type(p) == 'table' and not p.err then pending = tonumber(p[1]) end
  out[#out + 1] = tonumber(ready[lane]) or 0
  out[#out + 1] = pending
end
out[#out + 1] = redis.call('ZCARD', K_DELAYED)
out[#out + 1] = redis.call('ZCARD', K_COMPLETED)
out[#out + 1] = redis.call('ZCARD', K_FAILED)
out[#out + 1] = redis.call('EXISTS', K_PAUSED)
out[#out + 1] = redis.call('ZCOUNT', K_WORKERS, NOW - tonumber(ARGV[8]), '+inf')
out[#out + 1] = tonumber(redis.call('HGET', K_STATS, 'dead_lettered')) or 0
return out
