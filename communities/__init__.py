"""Communities: the places members gather, their rules text, and who holds which role there."""
