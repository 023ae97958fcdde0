-- One page of ids in sorted-set indexes (strategies, dead letters), newest first, that pass
-- every filter (queue_system/index_page.py calls it).
-- KEYS: [1] the set to walk; then, per filter, its sets (an id passes a
--       filter when it is in any of its sets)
-- ARGV: [1] page size, [2] cursor (the last id of the previous page, '' first),
--       [3] how many filters, then per filter how many sets it has,
--       [last] most entries to look at in this call.
-- Returns {next cursor ('' at the end), ids...}. A call that looked at its
-- most entries without filling the page returns what it found and a cursor.
local size, cursor, nfilters = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local budget = tonumber(ARGV[4 + nfilters])
local filters, k = {}, 2
for f = 1, nfilters do
  local sets = {}
  for _ = 1, tonumber(ARGV[3 + f]) do sets[#sets + 1] = KEYS[k]; k = k + 1 end
  filters[f] = sets
end
local start = 0
if cursor ~= '' then
  local rank = redis.call('ZREVRANK', KEYS[1], cursor)
  if not rank then return {''} end
  start = rank + 1
end
local found, looked, last = {}, 0, ''
while #found < size and looked < budget do
  local batch = redis.call('ZREVRANGE', KEYS[1], start, start + 199)
  if #batch == 0 then return {'', unpack(found)} end
  for _, id in ipairs(batch) do
    looked = looked + 1
    start = start + 1
    last = id
    local pass = true
    for _, sets in ipairs(filters) do
      local any = false
      for _, key in ipairs(sets) do
        if redis.call('ZSCORE', key, id) then any = true; break end
      end
      if not any then pass = false; break end
    end
    if pass then found[#found + 1] = id end
    if #found >= size or looked >= budget then break end
  end
end
if redis.call('ZREVRANGE', KEYS[1], start, start)[1] == nil then last = '' end
return {last, unpack(found)}
