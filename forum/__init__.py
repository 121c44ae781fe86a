"""Communities, threads, posts, reactions, help requests and offers, search, notifications."""
