"""What holds across every room: access, bad input, headers, exports, concurrency, logging, migrations, seed, forms."""
