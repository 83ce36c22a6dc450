"""Real services started on 127.0.0.1 for integration tests, and stopped afterwards."""
