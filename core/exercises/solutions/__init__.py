"""The reference solutions: ``stepbox exercises check NAME --with-solution``."""
