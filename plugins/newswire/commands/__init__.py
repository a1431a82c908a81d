"""Sub-commands of the ``newswire`` CLI, one module each."""
