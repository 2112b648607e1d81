"""Documents: loaders → chunker → embedder → Qdrant Edge index; retrieval with citations."""
