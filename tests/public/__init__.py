""""You said, we did": residents' pages, open data and their caching."""
