-- Change a strategy if it is still the version the caller read (optimistic
-- concurrency: two writers never both win).
-- KEYS: [1] its hash, [2] its history, [3] by old state, [4] by new state, [5] changes
-- ARGV: [1] id, [2] expected version, [3] record, [4] new version, [5] transition
--       ('' when the state does not change), [6] deploy ms, [7] awaiting JSON,
--       [8] record field, [9] version field, [10] awaiting field, [11] channel,
--       [12] events maxlen, then event JSON strings to publish.
-- Returns 1, or 0 when the version moved on (the caller reads again and decides again).
if redis.call('HGET', KEYS[1], ARGV[9]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[8], ARGV[3], ARGV[9], ARGV[4], ARGV[10], ARGV[7])
if KEYS[3] ~= KEYS[4] then
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('ZADD', KEYS[4], tonumber(ARGV[6]), ARGV[1])
end
if ARGV[5] ~= '' then
  redis.call('XADD', KEYS[2], '*', 'transition', ARGV[5])
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', tonumber(ARGV[12]), '*', 'strategy', ARGV[1], 'transition', ARGV[5])
end
for i = 13, #ARGV do redis.call('PUBLISH', ARGV[11], ARGV[i]) end
return 1
