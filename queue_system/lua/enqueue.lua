-- Add jobs. ARGV[8] is one blob of records, each:
--   >H id length, B lane (1..4), I4 delay ms, I4 envelope length; then id, envelope
-- (one argument for the whole batch: packing thousands of small arguments
-- costs the client more than the add itself).
-- A job id that exists already is not added again (de-duplication).
-- Returns per job 1 (added) or 0 (duplicate: the first job stands).
ensure_groups()
local blob = ARGV[8]
local out = {}
local pos = 1
while pos <= #blob do
  local id_len, lane, delay, env_len, p = struct.unpack('>HBI4I4', blob, pos)
  local id = string.sub(blob, p, p + id_len - 1)
  p = p + id_len
  local jk = JP .. id
  if redis.call('EXISTS', jk) == 1 then
    out[#out + 1] = 0
  else
    redis.call('HSET', jk, 'env', string.sub(blob, p, p + env_len - 1), 'lane', lane, 'ts', NOW)
    if delay > 0 then
      redis.call('HSET', jk, 'due', NOW + delay)
      redis.call('ZADD', K_DELAYED, NOW + delay, id)
      lifecycle('job_added', id, 'JOB_STATE_DELAYED', 0)
    else
      ready(id, lane)
      lifecycle('job_added', id, lane == 3 and 'JOB_STATE_WAITING' or 'JOB_STATE_PRIORITIZED', 0)
    end
    out[#out + 1] = 1
  end
  pos = p + env_len
end
return out
