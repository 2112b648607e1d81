"""Pages of the main window: each a self-contained widget that receives the core objects
it needs (Settings, and the Documents and Models pages)."""
