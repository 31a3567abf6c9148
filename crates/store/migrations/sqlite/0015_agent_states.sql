-- Collectors' states on the floor (坐席状态: ready, ringing, talking, wrap-up, paused with a
-- reason), shared by every server on the database for the team lead's live board.
CREATE TABLE agent_states (
    login  TEXT PRIMARY KEY REFERENCES users (login),
    state  TEXT NOT NULL,
    reason TEXT,
    day    TEXT    NOT NULL,            -- the team's local date the counts are of
    calls  INTEGER NOT NULL DEFAULT 0,  -- calls placed through the switch that day
    talk_secs INTEGER NOT NULL DEFAULT 0,
    since  TEXT NOT NULL
) STRICT;
