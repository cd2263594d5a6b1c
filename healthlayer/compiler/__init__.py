"""Turn checked definitions into a plan of named relations built as sqlglot expression trees."""
