"""The files a learner edits: ``stepbox exercises start NAME`` copies one out."""
