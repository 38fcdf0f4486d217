"""Built-in actor packs. Each module is one pack; `planactor.catalog.BUILTIN_PACKS` lists them."""
