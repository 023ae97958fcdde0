-- A decision on a dead letter (retry scheduled, retried, discarded, back to
-- review), taken only if it still has the status the decider read.
-- KEYS: [1] its hash, [2] by status (before), [3] by status (after), [4] counts,
--       [5] due, [6] retries
-- ARGV: [1] status read, [2] new DeadLetter bytes, [3] new status,
--       [4] retry at ms (0: not scheduled), [5] 1 when it was put back on its
--       queue (its job's retries count one more), then the DeadLetterField
--       names: [6] record, [7] status, [8] received_at, [9] job; [10] its id.
-- Returns 1 when decided, 0 when its status changed meanwhile, -1 when it is gone.
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local id = ARGV[10]
local before = redis.call('HGET', KEYS[1], ARGV[7])
if before ~= ARGV[1] then return 0 end
local received = tonumber(redis.call('HGET', KEYS[1], ARGV[8]))
redis.call('HSET', KEYS[1], ARGV[6], ARGV[2], ARGV[7], ARGV[3])
if ARGV[3] ~= before then
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[3], received, id)
  redis.call('HINCRBY', KEYS[4], 'status:' .. before, -1)
  redis.call('HINCRBY', KEYS[4], 'status:' .. ARGV[3], 1)
end
if tonumber(ARGV[4]) > 0 then
  redis.call('ZADD', KEYS[5], tonumber(ARGV[4]), id)
else
  redis.call('ZREM', KEYS[5], id)
end
if ARGV[5] == '1' then redis.call('HINCRBY', KEYS[6], redis.call('HGET', KEYS[1], ARGV[9]), 1) end
return 1
