"""Graph nodes, one per file: each is `(state, runtime) -> partial update`."""
