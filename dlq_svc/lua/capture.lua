-- Store a new dead letter with its indexes and counters, once: a record read
-- again (a dlq-svc that died between storing and acknowledging) changes nothing.
-- KEYS: [1] its hash, [2] all, [3] by queue, [4] by category, [5] by risk,
--       [6] by status, [7] by strategy (its hash when none), [8] counts, [9] due,
--       [10] its job's dead letters
-- ARGV: [1] id, [2] DeadLetter bytes, [3] queue, [4] category, [5] risk,
--       [6] status, [7] strategy ('' for none), [8] received ms,
--       [9] retry at ms (0: not scheduled), [10] job ("<queue>/<job id>"),
--       then the DeadLetterField names: [11] record, [12] queue, [13] category,
--       [14] risk, [15] status, [16] strategy, [17] received_at, [18] job.
-- Returns 1 when stored, 0 when it was there already.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local id, received = ARGV[1], tonumber(ARGV[8])
redis.call('HSET', KEYS[1], ARGV[11], ARGV[2], ARGV[12], ARGV[3], ARGV[13], ARGV[4], ARGV[14], ARGV[5],
  ARGV[15], ARGV[6], ARGV[16], ARGV[7], ARGV[17], received, ARGV[18], ARGV[10])
redis.call('ZADD', KEYS[2], received, id)
redis.call('HINCRBY', KEYS[8], 'total', 1)
local dims = {{3, 'queue', ARGV[3]}, {4, 'category', ARGV[4]}, {5, 'risk', ARGV[5]}, {6, 'status', ARGV[6]}}
if ARGV[7] ~= '' then dims[#dims + 1] = {7, 'strategy', ARGV[7]} end
for _, d in ipairs(dims) do
  redis.call('ZADD', KEYS[d[1]], received, id)
  redis.call('HINCRBY', KEYS[8], d[2] .. ':' .. d[3], 1)
end
redis.call('ZADD', KEYS[10], received, id)
if tonumber(ARGV[9]) > 0 then redis.call('ZADD', KEYS[9], tonumber(ARGV[9]), id) end
return 1
