-- Renew this consumer's lease on the jobs it runs: ARG[1] = n, then per job
-- lane, entry id. XCLAIM JUSTID resets the idle time without counting a
-- delivery. A job another consumer took over is not taken back; it is
-- returned as lost so the caller stops it and never acknowledges it. Also
-- records this worker as alive.
redis.call('ZADD', KEY.workers, NOW, CONSUMER)
local n = tonumber(ARG[1])
local lost = {}
for i = 0, n - 1 do
  local lane, entry_id = tonumber(ARG[2 + i * 2]), ARG[3 + i * 2]
  if owned(lane, entry_id) then
    redis.call('XCLAIM', LANE_KEYS[lane], WORKER_GROUP, CONSUMER, 0, entry_id, 'JUSTID')
  else
    lost[#lost + 1] = entry_id
  end
end
return lost
