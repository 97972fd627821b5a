"""What hks knows about each LLM provider."""
