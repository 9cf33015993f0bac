-- Finding a child place by name (imports, address resolution) must not
-- scan the community: look it up under its parent.
CREATE INDEX places_parent_name ON places(parent_id, kind, name);
