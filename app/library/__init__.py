"""Models on disk: GGUF headers, the registry of installed models, memory-fit estimates."""
