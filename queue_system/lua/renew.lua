-- Renew this consumer's lease on the jobs it runs: ARGV[8] = n, then per job
-- lane, sid. XCLAIM JUSTID resets the idle time without counting a delivery.
-- A job another consumer took over is not taken back; it is returned as lost
-- so the caller stops it and never acknowledges it. Also records this worker
-- as alive.
redis.call('ZADD', K_WORKERS, NOW, ME)
local n = tonumber(ARGV[8])
local lost = {}
for i = 0, n - 1 do
  local lane, sid = tonumber(ARGV[9 + i * 2]), ARGV[10 + i * 2]
  if owned(lane, sid) then
    redis.call('XCLAIM', LANE_KEYS[lane], GROUP, ME, 0, sid, 'JUSTID')
  else
    lost[#lost + 1] = sid
  end
end
return lost
