-- Keys an operator can manage: an optional expiry, when each key was last used (recorded at most once a minute per key),
-- and an audit trail of every change to a key: who, when, what.
ALTER TABLE api_keys
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN last_used_at timestamptz,
    ADD CONSTRAINT api_keys_expiry_after_creation CHECK (expires_at IS NULL OR expires_at > created_at);

CREATE TABLE api_key_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_id        bigint NOT NULL REFERENCES api_keys (id),
    action        text NOT NULL CHECK (action IN ('created', 'revoked')),
    -- Who made the change: a curator's key (over HTTP), or, for a command run on the server, no key.
    actor_key_id  bigint REFERENCES api_keys (id),
    -- Who, readable: "curator key 3 (Jane Curator)" or "command line, root@host".
    actor         text NOT NULL CHECK (length(btrim(actor)) > 0),
    -- What: the key's role, name and expiry as they were at the change.
    detail        text NOT NULL,
    reason        text,
    at            timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX api_key_events_key_idx ON api_key_events (key_id, id);

-- Keys made before the trail existed: their creation and revocation are its first entries.
INSERT INTO api_key_events (key_id, action, actor, detail, at)
SELECT id, 'created', 'before the audit trail', format('%s key "%s"', role, name), created_at FROM api_keys ORDER BY id;
INSERT INTO api_key_events (key_id, action, actor, detail, at)
SELECT id, 'revoked', 'before the audit trail', format('%s key "%s"', role, name), revoked_at FROM api_keys WHERE revoked_at IS NOT NULL ORDER BY id;
