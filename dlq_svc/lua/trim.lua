-- Retention: remove the oldest dead letters, those received before a cutoff,
-- then any beyond the cap, at most a batch per call, with their indexes,
-- counters, schedule, their job's retry count and their place among the
-- job's dead letters.
-- KEYS: [1] all, [2] counts, [3] due, [4] retries
-- ARGV: [1] prefix of dead letter hashes, [2] prefix of index sets
--       ("<...>:by:"), [3] cutoff ms, [4] cap, [5] batch, then the
--       DeadLetterField names: [6] queue, [7] category, [8] risk, [9] status,
--       [10] strategy, [11] job, then [12] prefix of the per-job sets
--       ("<...>:job:", followed by the job id: the part of `job` after its
--       queue's "/").
-- Returns {removed as too old, removed beyond the cap}.
local batch = tonumber(ARGV[5])
local function remove(id)
  local hk = ARGV[1] .. id
  local v = redis.call('HMGET', hk, ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11])
  local dims = {'queue', 'category', 'risk', 'status', 'strategy'}
  for i, dim in ipairs(dims) do
    if v[i] and v[i] ~= '' then
      redis.call('ZREM', ARGV[2] .. dim .. ':' .. v[i], id)
      redis.call('HINCRBY', KEYS[2], dim .. ':' .. v[i], -1)
    end
  end
  if v[6] then
    redis.call('HDEL', KEYS[4], v[6])
    local job = string.match(v[6], '^[^/]*/(.*)$')
    if job then redis.call('ZREM', ARGV[12] .. job, id) end
  end
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[3], id)
  redis.call('HINCRBY', KEYS[2], 'total', -1)
  redis.call('DEL', hk)
end
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3], 'LIMIT', 0, batch)
for _, id in ipairs(old) do remove(id) end
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
local capped = {}
if over > 0 then
  capped = redis.call('ZRANGE', KEYS[1], 0, math.min(over, batch) - 1)
  for _, id in ipairs(capped) do remove(id) end
end
return {#old, #capped}
