-- Finish jobs that succeeded: ARGV[8] = n, then per job lane, sid, id,
-- retention mode, count, age ms, run ms, result (may be empty).
-- Only the consumer that holds a job may finish it. Returns per job 1 (done)
-- or 0 (not held by this consumer any more: another worker took it over).
local n = tonumber(ARGV[8])
local out = {}
for i = 0, n - 1 do
  local b = 9 + i * 8
  local lane, sid, id = tonumber(ARGV[b]), ARGV[b + 1], ARGV[b + 2]
  if owned(lane, sid) then
    retire(lane, sid)
    local mode = tonumber(ARGV[b + 3])
    if mode ~= 1 then
      redis.call('HSET', JP .. id, 'fon', NOW, 'w', ME, 'att', (tonumber(redis.call('HGET', JP .. id, 'att')) or 0) + 1)
      redis.call('HDEL', JP .. id, 'sid')
      if ARGV[b + 7] ~= '' then redis.call('HSET', JP .. id, 'res', ARGV[b + 7]) end
    end
    retain(K_COMPLETED, id, mode, tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5]))
    lifecycle('job_completed', id, 'JOB_STATE_COMPLETED', 0, {duration = duration_json(tonumber(ARGV[b + 6]))})
    out[i + 1] = 1
  else
    out[i + 1] = 0
  end
end
return out
