"""Knowledge bases: load, chunk, embed and store documents; search them; cite them in answers."""
