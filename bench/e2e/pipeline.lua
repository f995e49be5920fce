-- wrk script: DEPTH requests per write (wrk counts each response).
local depth = tonumber(os.getenv("DEPTH") or "1")

init = function(args)
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format(nil)
  end
  req = table.concat(r)
end

request = function()
  return req
end
