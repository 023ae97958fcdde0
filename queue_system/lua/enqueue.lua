-- Add jobs: ARGV[8] = n, then per job: id, envelope, lane (1..4), delay ms.
-- A job id that exists already is not added again (de-duplication).
-- Returns per job 1 (added) or 0 (duplicate: the first job stands).
ensure_groups()
local n = tonumber(ARGV[8])
local out = {}
for i = 0, n - 1 do
  local b = 9 + i * 4
  local id, env, lane, delay = ARGV[b], ARGV[b + 1], tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
  local jk = JP .. id
  if redis.call('EXISTS', jk) == 1 then
    out[i + 1] = 0
  else
    redis.call('HSET', jk, 'env', env, 'lane', lane, 'ts', NOW)
    if delay > 0 then
      redis.call('HSET', jk, 'due', NOW + delay)
      redis.call('ZADD', K_DELAYED, NOW + delay, id)
      lifecycle('job_added', id, 'JOB_STATE_DELAYED', 0)
    else
      ready(id, lane)
      lifecycle('job_added', id, lane == 3 and 'JOB_STATE_WAITING' or 'JOB_STATE_PRIORITIZED', 0)
    end
    out[i + 1] = 1
  end
end
return out
