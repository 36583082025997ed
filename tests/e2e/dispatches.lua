-- The dispatches script on the seed data, end to end.
dofile("scripts/dispatches.lua")
