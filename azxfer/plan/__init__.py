"""Planning: which entries a job moves (filters) and what they are called locally (naming)."""
