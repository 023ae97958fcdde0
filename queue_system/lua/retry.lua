-- A failed attempt that has attempts left: ARGV[8] lane, [9] sid, [10] id,
-- [11] attempts made, [12] AttemptError bytes, [13] backoff ms, [14] error text,
-- [15] run ms. The job goes back to its lane now, or to the delayed set.
-- Returns 1, or 0 when this consumer no longer holds the job.
local lane, sid, id = tonumber(ARGV[8]), ARGV[9], ARGV[10]
if not owned(lane, sid) then return 0 end
retire(lane, sid)
trim(lane)
local att, delay = tonumber(ARGV[11]), tonumber(ARGV[13])
local jk = JP .. id
redis.call('HSET', jk, 'att', att, 'e:' .. att, ARGV[12], 'w', ME, 'dlv', 0)
redis.call('HDEL', jk, 'sid')
local extra = {failedReason = ARGV[14], retryDelay = duration_json(delay), duration = duration_json(tonumber(ARGV[15]))}
if delay > 0 then
  redis.call('HSET', jk, 'due', NOW + delay)
  redis.call('ZADD', K_DELAYED, NOW + delay, id)
  lifecycle('job_retried', id, 'JOB_STATE_DELAYED', att, extra)
else
  ensure_groups()
  ready(id, lane)
  lifecycle('job_retried', id, lane == 3 and 'JOB_STATE_WAITING' or 'JOB_STATE_PRIORITIZED', att, extra)
end
return 1
