""""Has this made a difference?": residents' answers to a published "We did", and their moderated comments."""
