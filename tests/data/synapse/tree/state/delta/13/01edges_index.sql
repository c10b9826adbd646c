CREATE INDEX state_group_edges_prev ON state_group_edges (prev_state_group);
