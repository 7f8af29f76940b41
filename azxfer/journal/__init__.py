"""The SQLite job journal: a job's plan and state, written before acting, crash-safe."""
