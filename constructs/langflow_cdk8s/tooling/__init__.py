"""What is not a construct: the synthesis wrapper, generated docs, inventories of synthesized objects."""
