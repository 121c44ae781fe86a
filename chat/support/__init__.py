"""1:1 support requests: a member and one peer supporter in a private conversation."""
