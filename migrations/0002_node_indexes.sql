-- Two nodes must never share an address: the allocator relies on these indexes as its last guard.
CREATE UNIQUE INDEX idx_nodes_ipv4 ON nodes (ipv4) WHERE ipv4 IS NOT NULL AND ipv4 != '';
CREATE UNIQUE INDEX idx_nodes_ipv6 ON nodes (ipv6) WHERE ipv6 IS NOT NULL AND ipv6 != '';

-- Registration and map requests look nodes up by key.
CREATE INDEX idx_nodes_machine_key ON nodes (machine_key);
CREATE INDEX idx_nodes_node_key ON nodes (node_key);
CREATE INDEX idx_nodes_user_id ON nodes (user_id);
