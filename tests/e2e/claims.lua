-- The claims script on the seed data, end to end.
dofile("scripts/claims.lua")
