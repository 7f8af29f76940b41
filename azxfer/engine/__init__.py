"""The chunked asyncio scheduler: one budget of requests and memory across all files."""
